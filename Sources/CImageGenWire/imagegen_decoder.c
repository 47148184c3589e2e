#include "imagegen_decoder.h"

#include <stdlib.h>

/* Each block carries its size in a header so that free can give the bytes back to the budget. */
typedef union { size_t size; max_align_t align; } BlockHeader;

static void *bounded_alloc(void *data, size_t size) {
    ImagegenDecoder *decoder = data;
    if (size > decoder->budget - decoder->used || size > SIZE_MAX - sizeof(BlockHeader)) {
        decoder->exhausted = 1;
        return NULL;
    }
    BlockHeader *block = malloc(sizeof(BlockHeader) + size);
    if (block == NULL) {
        decoder->exhausted = 1;
        return NULL;
    }
    block->size = size;
    decoder->used += size;
    return block + 1;
}

static void bounded_free(void *data, void *pointer) {
    if (pointer == NULL) return;
    ImagegenDecoder *decoder = data;
    BlockHeader *block = ((BlockHeader *)pointer) - 1;
    decoder->used -= block->size;
    free(block);
}

void imagegen_decoder_init(ImagegenDecoder *decoder, size_t budget) {
    decoder->allocator.alloc = bounded_alloc;
    decoder->allocator.free = bounded_free;
    decoder->allocator.allocator_data = decoder;
    decoder->budget = budget;
    decoder->used = 0;
    decoder->exhausted = 0;
}

ProtobufCMessage *imagegen_decoder_unpack(ImagegenDecoder *decoder,
                                          const ProtobufCMessageDescriptor *descriptor,
                                          size_t len, const uint8_t *data) {
    return protobuf_c_message_unpack(descriptor, &decoder->allocator, len, data);
}

void imagegen_decoder_free(ImagegenDecoder *decoder, ProtobufCMessage *message) {
    if (message != NULL) protobuf_c_message_free_unpacked(message, &decoder->allocator);
}

ProtobufCAllocator *imagegen_decoder_allocator(ImagegenDecoder *decoder) { return &decoder->allocator; }
