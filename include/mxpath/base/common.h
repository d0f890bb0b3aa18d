/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common.h - limits and helpers shared by every mxpath module
 *
 * Names and sizes that several modules must agree on: the longest domain
 * name, the attribute macros, and the allocation and logging helpers that
 * make an out-of-memory condition one clear fatal line instead of a crash.
 */
#ifndef MXPATH_COMMON_H
#define MXPATH_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define MXPATH_VERSION "0.1.0"

/* RFC 1035: a name is at most 253 octets in text form, a label 63. */
#define MX_NAME_MAX 253
#define MX_LABEL_MAX 63
#define MX_NAME_BUF (MX_NAME_MAX + 3)	/* room for "[...]" literals */

/* RFC 5321 4.5.3.1: local part <= 64, path <= 256 octets; we accept more
 * in the local part (real MTAs do) but never more than this. */
#define MX_LOCAL_MAX 256
#define MX_ADDRESS_MAX (MX_LOCAL_MAX + 1 + MX_NAME_BUF)

#define MX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MX_NORETURN __attribute__((noreturn))
#define MX_UNUSED __attribute__((unused))
#define MX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* xalloc.c: allocation that never returns NULL (fatal on failure). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* log.c: one sink for the whole process (stderr by default, a file, or syslog). */
enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_open_syslog(const char *ident);	/* facility mail */
void log_open_stderr(const char *ident);
/* Appends to path (created 0640), each line with its time. 0, or -1 and err. */
int log_open_file(const char *ident, const char *path, char *err, size_t errlen);
void log_set_timestamps(bool on);	/* stderr lines start with their time */
bool log_stderr_is_journal(void);	/* systemd's JOURNAL_STREAM is our stderr */
bool log_syslog_reachable(void);	/* something listens on /dev/log */
void log_set_level(enum log_level max);
void log_msg(enum log_level level, const char *fmt, ...) MX_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap) MX_PRINTF(2, 0);
/* A line already built (len bytes, no newline): no formatting on the way. */
void log_text(enum log_level level, const char *text, size_t len);
#define log_warnx(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_errx(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
void fatal(const char *fmt, ...) MX_PRINTF(1, 2) MX_NORETURN;	/* flushes, exit(70) */

/*
 * On stderr, the calling thread holds its lines back in one buffer until
 * log_flush() (the event loop flushes once per wakeup: one write for many
 * lines). One thread at a time; in the others, and with syslog, lines go
 * out at once. Calls nest; the last log_buffer_end() flushes. A full
 * buffer, fatal() and exit() flush too.
 */
void log_buffer_begin(void);
void log_buffer_end(void);
void log_flush(void);		/* any thread */

#endif
