/*
 * log.c - the process's one log sink: stderr (foreground) or syslog (mail)
 *
 * Thread-safe: each message is formatted into a local buffer and written
 * with one call, so lines from milter threads never interleave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "mxpath/common.h"

static const char *log_ident = "mxpath";
static int log_to_syslog;
static enum log_level log_max = LOG_LEVEL_INFO;

static const int syslog_priority[] = {
	[LOG_LEVEL_ERR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const level_prefix[] = {
	[LOG_LEVEL_ERR] = "error: ",
	[LOG_LEVEL_WARN] = "warning: ",
	[LOG_LEVEL_INFO] = "",
	[LOG_LEVEL_DEBUG] = "debug: ",
};

void log_open_syslog(const char *ident)
{
	log_ident = ident;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_to_syslog = 1;
}

void log_open_stderr(const char *ident)
{
	log_ident = ident;
	log_to_syslog = 0;
}

void log_set_level(enum log_level max)
{
	log_max = max;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > log_max)
		return;
	if (log_to_syslog) {
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(syslog_priority[level], "%s%s", level_prefix[level], line);
		return;
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s", log_ident, (long)getpid(),
		     level_prefix[level]);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: lines from several threads never interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(70);	/* EX_SOFTWARE */
}
