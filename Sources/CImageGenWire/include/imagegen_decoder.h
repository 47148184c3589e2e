/* A protobuf-c allocator with a byte budget, so that a small frame cannot make the
 * decoder allocate without bound (protobuf-c's unpack has no size parameter of its own). */
#ifndef IMAGEGEN_DECODER_H
#define IMAGEGEN_DECODER_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

typedef struct ImagegenDecoder {
    ProtobufCAllocator allocator; /* allocator_data points back at this struct */
    size_t budget;                /* bytes the decoder may hold at once */
    size_t used;                  /* bytes held now */
    int exhausted;                /* set when an allocation was refused for the budget */
} ImagegenDecoder;

/* Prepares `decoder` in place; it must not move while messages it unpacked are alive. */
void imagegen_decoder_init(ImagegenDecoder *decoder, size_t budget);

/* Unpacks `len` bytes as `descriptor`; NULL when the bytes do not decode or the budget is exceeded. */
ProtobufCMessage *imagegen_decoder_unpack(ImagegenDecoder *decoder,
                                          const ProtobufCMessageDescriptor *descriptor,
                                          size_t len, const uint8_t *data);

/* The allocator to pass to the generated __unpack/__free_unpacked functions. */
ProtobufCAllocator *imagegen_decoder_allocator(ImagegenDecoder *decoder);

/* Frees a message that imagegen_decoder_unpack returned. */
void imagegen_decoder_free(ImagegenDecoder *decoder, ProtobufCMessage *message);

#endif
