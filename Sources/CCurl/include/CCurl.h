/* Typed, non-variadic wrappers around libcurl, so Swift can call them. */
#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

/* Returns libcurl's version string. */
const char *ccurl_version(void);

#endif
