#include "CZlib.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *czlib_version(void) { return zlibVersion(); }

/* zlib counts in uInt (32 bits): hand it at most UINT_MAX at a time. */
static uInt czlib_piece(size_t *left) {
    uInt piece = *left > UINT_MAX ? UINT_MAX : (uInt)*left;
    *left -= piece;
    return piece;
}

/* The smallest window (2^9 to 2^15 bytes) that holds the whole input and zlib's 262-byte
 * lookahead, as libpng chooses it, and a hash of as many buckets (memLevel = bits - 7, 8 for
 * 32 KiB). Small inputs then compress about as well but need a few KiB of zlib state instead of
 * 256 KiB, which glibc would give back to the system and fault in again on every call. */
static int czlib_window_bits(size_t source_length) {
    int bits = 9;
    while (bits < 15 && ((size_t)1 << bits) < source_length + 262) bits++;
    return bits;
}

/* zlib's deflate state in one block per call: zlib asks for four tables of up to 64 KiB each,
 * which glibc takes from and gives back to its heap top on every call, faulting the pages in
 * again each time; one block of their total costs less (BENCHMARKS.md, "PNG through zlib").
 * Requests beyond the block (another zlib's sizes) fall back to malloc. */
typedef struct {
    unsigned char *base;
    size_t used, size;
} czlib_arena;

static voidpf czlib_arena_alloc(voidpf opaque, uInt items, uInt size) {
    czlib_arena *arena = opaque;
    size_t bytes = ((size_t)items * size + 15) & ~(size_t)15;
    if (arena->base == NULL || bytes > arena->size - arena->used) return malloc((size_t)items * size);
    voidpf block = arena->base + arena->used;
    arena->used += bytes;
    return block;
}

static void czlib_arena_free(voidpf opaque, voidpf address) {
    czlib_arena *arena = opaque;
    unsigned char *byte = address;
    if (arena->base == NULL || byte < arena->base || byte >= arena->base + arena->size) free(address);
}

size_t czlib_deflate_bound(size_t source_length) {
    /* deflateBound without a stream is zlib's bound for any settings with a zlib wrapper
     * (6 bytes); a gzip wrapper without name, comment or extra fields takes 12 bytes more. */
    return (size_t)deflateBound(Z_NULL, (uLong)source_length) + 12;
}

int czlib_deflate(const unsigned char *source, size_t source_length, int level, int gzip,
                  unsigned char *dest, size_t dest_capacity, size_t *dest_length, const char **detail) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    *dest_length = 0;
    *detail = NULL;
    int window_bits = czlib_window_bits(source_length);
    /* zconf.h: deflate needs (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes and a few KiB. */
    czlib_arena arena = {NULL, 0, ((size_t)1 << (window_bits + 2)) + ((size_t)1 << (window_bits - 7 + 9)) + 16384};
    arena.base = malloc(arena.size);
    stream.zalloc = czlib_arena_alloc;
    stream.zfree = czlib_arena_free;
    stream.opaque = &arena;
    int rc = deflateInit2(&stream, level, Z_DEFLATED, gzip ? window_bits + 16 : window_bits, window_bits - 7,
                          Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        *detail = stream.msg;
        free(arena.base);
        return rc;
    }
    size_t in_left = source_length, out_left = dest_capacity;
    stream.next_in = (Bytef *)source; /* zlib does not write through next_in */
    stream.next_out = dest;
    for (;;) {
        if (stream.avail_in == 0) stream.avail_in = czlib_piece(&in_left);
        if (stream.avail_out == 0) {
            if (out_left == 0) {
                rc = Z_BUF_ERROR;
                break;
            }
            stream.avail_out = czlib_piece(&out_left);
        }
        rc = deflate(&stream, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            rc = Z_OK;
            break;
        }
        if (rc != Z_OK) break;
    }
    if (rc != Z_OK) *detail = stream.msg;
    *dest_length = dest_capacity - out_left - stream.avail_out;
    int end = deflateEnd(&stream);
    free(arena.base);
    return rc == Z_OK && end != Z_OK ? end : rc;
}

int czlib_inflate(const unsigned char *source, size_t source_length, int gzip,
                  unsigned char *dest, size_t dest_capacity, size_t *dest_length, size_t *consumed,
                  const char **detail) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    *dest_length = 0;
    *consumed = 0;
    *detail = NULL;
    int rc = inflateInit2(&stream, gzip ? 15 + 16 : 15);
    if (rc != Z_OK) {
        *detail = stream.msg;
        return rc;
    }
    size_t in_left = source_length, out_left = dest_capacity;
    stream.next_in = (Bytef *)source;
    stream.next_out = dest;
    for (;;) {
        if (stream.avail_in == 0) stream.avail_in = czlib_piece(&in_left);
        if (stream.avail_out == 0) stream.avail_out = czlib_piece(&out_left);
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            rc = Z_OK;
            break;
        }
        /* Z_BUF_ERROR: no progress possible, out of room (kept as Z_BUF_ERROR) or of input. */
        if (rc == Z_BUF_ERROR && !(stream.avail_out == 0 && out_left == 0) && stream.avail_in == 0 && in_left == 0)
            rc = CZLIB_TRUNCATED;
        if (rc != Z_OK) break;
    }
    if (rc != Z_OK && rc != CZLIB_TRUNCATED) *detail = stream.msg;
    *dest_length = dest_capacity - out_left - stream.avail_out;
    *consumed = source_length - in_left - stream.avail_in;
    inflateEnd(&stream);
    return rc;
}

unsigned long czlib_crc32(unsigned long running, const unsigned char *data, size_t length) {
    return crc32_z(running, data, length);
}

unsigned long czlib_adler32(unsigned long running, const unsigned char *data, size_t length) {
    return adler32_z(running, data, length);
}
