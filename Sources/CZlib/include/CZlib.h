/* Whole-buffer zlib calls for Swift.
 *
 * zlib's deflateInit2/inflateInit2 are macros (Swift cannot call them) and its z_stream holds
 * pointers into the caller's buffers. Each function here runs one whole operation on buffers the
 * caller owns: it sets up a z_stream, runs it to the end and releases it before returning, so no
 * zlib state outlives the call. Sizes are size_t; inputs above 4 GiB are fed in pieces.
 */
#ifndef CZLIB_H
#define CZLIB_H
#include <stddef.h>
#include <zlib.h>

/* Returned by czlib_inflate when the input ended before the stream did. */
#define CZLIB_TRUNCATED (-100)

/* Returns the version of the zlib library linked at run time. */
const char *czlib_version(void);

/* An upper bound of what czlib_deflate writes for source_length bytes, in either format. */
size_t czlib_deflate_bound(size_t source_length);

/* Compresses source into dest as one zlib stream (gzip = 0, RFC 1950) or one gzip member
 * (gzip = 1, RFC 1952), at level 0-9 or Z_DEFAULT_COMPRESSION, default strategy, with a window
 * and hash no larger than the input needs.
 * Returns Z_OK and sets *dest_length; Z_BUF_ERROR when dest_capacity is too small; otherwise zlib's
 * code (Z_MEM_ERROR, Z_STREAM_ERROR for a bad level, Z_VERSION_ERROR). On failure *detail is zlib's
 * message (a static string) or NULL. */
int czlib_deflate(const unsigned char *source, size_t source_length, int level, int gzip,
                  unsigned char *dest, size_t dest_capacity, size_t *dest_length, const char **detail);

/* Decompresses the one stream at the start of source (format as for czlib_deflate) into dest.
 * Returns Z_OK when the stream ended and its check value matched, with *dest_length written and
 * *consumed input bytes read; Z_BUF_ERROR when the output would exceed dest_capacity;
 * CZLIB_TRUNCATED when the input ended first; Z_DATA_ERROR for a corrupt stream; Z_NEED_DICT,
 * Z_MEM_ERROR otherwise. On failure *detail is zlib's message (a static string) or NULL. */
int czlib_inflate(const unsigned char *source, size_t source_length, int gzip,
                  unsigned char *dest, size_t dest_capacity, size_t *dest_length, size_t *consumed,
                  const char **detail);

/* CRC-32 (ISO 3309, as PNG and gzip use it) and Adler-32 of data, continuing from `running`
 * (start with 0 for CRC-32, 1 for Adler-32). */
unsigned long czlib_crc32(unsigned long running, const unsigned char *data, size_t length);
unsigned long czlib_adler32(unsigned long running, const unsigned char *data, size_t length);

#endif
