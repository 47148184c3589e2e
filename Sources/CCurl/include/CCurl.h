/* Typed, non-variadic wrappers around libcurl, so Swift can call them.
 *
 * libcurl's setopt/getinfo entry points are variadic and Swift cannot call them; each wrapper
 * here forwards exactly one argument type. Long options always take a C `long`.
 */
#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

/* Returns libcurl's version string. */
const char *ccurl_version(void);

/* Once per process (pthread_once): ignores SIGPIPE, initialises OpenSSL with
 * OPENSSL_INIT_NO_ATEXIT (when libcurl is built on OpenSSL) and calls curl_global_init.
 * Returns the curl_global_init result (CURLE_OK on success); later calls return the first result. */
CURLcode ccurl_global_init_once(void);

/* Write and transfer-progress callbacks, as libcurl declares them. */
typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t nmemb, void *userdata);
typedef int (*ccurl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);

/* Easy handle options. */
CURLcode ccurl_easy_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode ccurl_easy_setopt_off_t(CURL *easy, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_ptr(CURL *easy, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_str(CURL *easy, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value);
CURLcode ccurl_easy_setopt_write_callback(CURL *easy, ccurl_write_callback callback, void *userdata);
CURLcode ccurl_easy_setopt_xferinfo_callback(CURL *easy, ccurl_xferinfo_callback callback, void *userdata);

/* Easy handle information. */
CURLcode ccurl_easy_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *easy, CURLINFO info, curl_off_t *value);
CURLcode ccurl_easy_getinfo_ptr(CURL *easy, CURLINFO info, void **value);

/* Multi handle. */
CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* Reads the next finished transfer from the multi handle: returns 1 and fills easy/result
 * when a CURLMSG_DONE message was read, 0 when the queue is empty. */
int ccurl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result);

/* Names the calling thread for the kernel (ps, /proc/self/task/N/comm); cut to 15 bytes. */
int ccurl_set_current_thread_name(const char *name);

#endif
