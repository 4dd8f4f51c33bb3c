/*
 * mem.h - allocation that aborts on out-of-memory, and a growable byte buffer.
 *
 * drydock treats out-of-memory as fatal (like Redis): there is nothing useful
 * a backup or an archive command can do without memory, and every caller
 * checking for NULL would hide the real error paths.
 */
#ifndef DD_COMMON_MEM_H
#define DD_COMMON_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) DD_PRINTF(1, 2);

/* A growable byte buffer. Zero-initialised is empty and valid. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} Buf;

void buf_reserve(Buf *b, size_t extra);
void buf_append(Buf *b, const void *data, size_t len);
void buf_append_str(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) DD_PRINTF(2, 3);
void buf_reset(Buf *b);
void buf_free(Buf *b);

/* A growable list of owned strings. */
typedef struct {
    char **items;
    size_t len;
    size_t cap;
} StrList;

void strlist_push(StrList *l, const char *s);
void strlist_push_owned(StrList *l, char *s);
void strlist_sort(StrList *l);
void strlist_free(StrList *l);

#endif
