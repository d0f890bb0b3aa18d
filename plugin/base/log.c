/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the process's one log sink: stderr (foreground), a file, or
 * syslog (mail)
 *
 * On stderr and in a file a line may start with its time, RFC 3339 with
 * milliseconds and the UTC offset ("2026-12-04T20:22:32.123+00:00 "):
 * mxpathd -f asks for it unless stderr is the systemd journal (which
 * stamps lines itself), and a log file always has it. The date part is
 * built once a second per thread.
 *
 * Thread-safe: each message is formatted into a local buffer and handed
 * over whole, so lines from several threads never interleave. On stderr,
 * one thread at a time (the event loop's) may hold its lines back with
 * log_buffer_begin(): they wait in one buffer and log_flush() writes them
 * with one write() (the loop flushes once per wakeup, so N decisions cost
 * one system call, not N). The buffer is written out when full, by
 * fatal(), by log_buffer_end() and at exit(); a crash loses what it
 * holds, one loop iteration at most. A mutex guards the buffer and every
 * write to stderr, so even a write longer than PIPE_BUF to a pipe cannot
 * be split by another thread's line.
 *
 * The "ident[pid]: " prefix is built when the sink is chosen and again in
 * a child after fork(): no getpid() per line. For syslog, the tag given
 * to openlog() is "ident[pid]" itself: LOG_PID would make glibc call
 * getpid() for every line, for the same bytes.
 *
 * Not here: syslog batching. Each syslog() call is one datagram to
 * /dev/log, so the daemon without -f pays one send per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"

#define LOG_LINE_MAX 2048	/* one message, prefix and newline included */
#define LOG_BUFFER_SIZE 32768	/* lines held back by the buffering thread */
#define LOG_PREFIX_MAX 128
#define LOG_STAMP_MAX 40	/* "2026-12-04T20:22:32.123+00:00 " and room */

static void log_init(void);
static void log_set_prefix(void);
static size_t log_format_line(char *line, size_t cap, enum log_level level, const char *text,
			      size_t text_len);
static size_t log_stamp(char *out, size_t cap);
static void log_buffer_put(const char *line, size_t len);
static void log_write_buffer(void);
static void log_write_all(const char *data, size_t len);
static void log_fork_prepare(void);
static void log_fork_parent(void);
static void log_fork_child(void);

static const char *log_ident = "mxpath";
static int log_to_syslog;
static int log_fd = STDERR_FILENO;	/* the sink when not syslog */
static bool log_timestamps;
static enum log_level log_max = LOG_LEVEL_INFO;
static char log_prefix[LOG_PREFIX_MAX];	/* "ident[pid]: " */
static size_t log_prefix_len;
static char log_syslog_tag[LOG_PREFIX_MAX];	/* "ident[pid]", openlog() keeps the pointer */
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* Guards the buffer, its owner and every write to stderr. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buffer[LOG_BUFFER_SIZE];
static size_t log_buffered;
static bool log_buffer_owned;		/* some thread holds its lines back */
/* Non-zero only in the thread that owns the buffer: its begin count. */
static _Thread_local unsigned log_buffer_depth;

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

/* Once per process: the prefix for a sink never opened, and the hooks
 * that keep the buffer and the pid right across fork() and exit(). */
static void log_init(void)
{
	log_set_prefix();
	pthread_atfork(log_fork_prepare, log_fork_parent, log_fork_child);
	atexit(log_flush);
}

/* Called while the process has one thread (set-up, or a fork child). */
static void log_set_prefix(void)
{
	long pid = (long)getpid();
	int n = snprintf(log_prefix, sizeof(log_prefix), "%s[%ld]: ", log_ident, pid);

	if (n < 0)
		n = 0;
	/* A cut prefix is still a prefix. */
	log_prefix_len = (size_t)n < sizeof(log_prefix) ? (size_t)n : sizeof(log_prefix) - 1;
	snprintf(log_syslog_tag, sizeof(log_syslog_tag), "%s[%ld]", log_ident, pid);
}

void log_open_syslog(const char *ident)
{
	pthread_once(&log_once, log_init);
	log_flush();	/* what was held back belongs to stderr */
	log_ident = ident;
	log_set_prefix();
	openlog(log_syslog_tag, LOG_NDELAY, LOG_MAIL);
	log_to_syslog = 1;
}

/* Also ends a log file, and its timestamps, if one was open. */
void log_open_stderr(const char *ident)
{
	pthread_once(&log_once, log_init);
	log_flush();
	log_ident = ident;
	log_set_prefix();
	log_to_syslog = 0;
	pthread_mutex_lock(&log_lock);
	if (log_fd != STDERR_FILENO) {
		close(log_fd);
		log_fd = STDERR_FILENO;
		log_timestamps = false;
	}
	pthread_mutex_unlock(&log_lock);
}

int log_open_file(const char *ident, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open the log file: %s", path, strerror(errno));
		return -1;
	}
	log_open_stderr(ident);
	log_flush();	/* what was held back belongs to stderr */
	pthread_mutex_lock(&log_lock);
	log_fd = fd;
	log_timestamps = true;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_set_timestamps(bool on)
{
	log_timestamps = on;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connects to stderr. */
bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	if (env == NULL || fstat(STDERR_FILENO, &st) < 0)
		return false;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (end == env || *end != ':' || errno != 0)
		return false;
	env = end + 1;
	ino = strtoull(env, &end, 10);
	if (end == env || *end != '\0' || errno != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Whether a syslog daemon listens on /dev/log (as glibc tries: datagram, then stream). */
bool log_syslog_reachable(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };

	for (size_t i = 0; i < MX_ARRAY_LEN(types); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		int rc;

		if (fd < 0)
			continue;
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
		if (rc == 0)
			return true;
	}
	return false;
}

void log_set_level(enum log_level max)
{
	log_max = max;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	int n;

	if (level > log_max)
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	log_text(level, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

void log_text(enum log_level level, const char *text, size_t len)
{
	char line[LOG_LINE_MAX];

	if (level > log_max)
		return;
	if (log_to_syslog) {
		/* One datagram per line: nothing to batch. */
		syslog(syslog_priority[level], "%s%.*s", level_prefix[level],
		       len < INT_MAX ? (int)len : INT_MAX, text);
		return;
	}
	pthread_once(&log_once, log_init);
	len = log_format_line(line, sizeof(line), level, text, len);
	pthread_mutex_lock(&log_lock);
	if (log_buffer_depth > 0)
		log_buffer_put(line, len);
	else
		log_write_all(line, len);
	pthread_mutex_unlock(&log_lock);
}

/* "[time ]ident[pid]: warning: message\n", cut to fit cap; returns its
 * length (the line is not NUL-terminated). */
static size_t log_format_line(char *line, size_t cap, enum log_level level, const char *text,
			      size_t text_len)
{
	size_t len = log_timestamps ? log_stamp(line, LOG_STAMP_MAX) : 0;
	size_t tag = strlen(level_prefix[level]);

	memcpy(line + len, log_prefix, log_prefix_len);
	len += log_prefix_len;
	memcpy(line + len, level_prefix[level], tag);
	len += tag;
	if (text_len > cap - len - 1)
		text_len = cap - len - 1;	/* room for the newline */
	memcpy(line + len, text, text_len);
	len += text_len;
	line[len++] = '\n';
	return len;
}

/* "2026-12-04T20:22:32.123+00:00 ": the part up to the seconds is kept
 * per thread and remade when the second changes. */
static size_t log_stamp(char *out, size_t cap)
{
	static _Thread_local time_t stamp_second = -1;
	static _Thread_local char stamp_date[24], stamp_zone[8];
	static _Thread_local size_t date_len, zone_len;
	struct timespec now;
	struct tm tm;
	long ms;

	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != stamp_second && localtime_r(&now.tv_sec, &tm) != NULL) {
		char zone[8];

		stamp_second = now.tv_sec;
		date_len = strftime(stamp_date, sizeof(stamp_date), "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof(zone), "%z", &tm);	/* "+0000" -> "+00:00" */
		snprintf(stamp_zone, sizeof(stamp_zone), "%.3s:%.2s", zone, zone + 3);
		zone_len = strlen(stamp_zone);
	}
	/* Per line only the milliseconds change: no printf for them. */
	if (date_len + 4 + zone_len + 1 > cap)
		return 0;
	ms = now.tv_nsec / 1000000L;
	memcpy(out, stamp_date, date_len);
	out[date_len] = '.';
	out[date_len + 1] = (char)('0' + ms / 100);
	out[date_len + 2] = (char)('0' + ms / 10 % 10);
	out[date_len + 3] = (char)('0' + ms % 10);
	memcpy(out + date_len + 4, stamp_zone, zone_len);
	out[date_len + 4 + zone_len] = ' ';
	return date_len + 4 + zone_len + 1;
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
	log_flush();
	exit(70);	/* EX_SOFTWARE */
}

/* ---- holding lines back ---- */

void log_buffer_begin(void)
{
	pthread_once(&log_once, log_init);
	if (log_buffer_depth > 0) {
		log_buffer_depth++;
		return;
	}
	pthread_mutex_lock(&log_lock);
	if (!log_buffer_owned) {
		log_buffer_owned = true;
		log_buffer_depth = 1;
	}
	pthread_mutex_unlock(&log_lock);
}

void log_buffer_end(void)
{
	if (log_buffer_depth == 0 || --log_buffer_depth > 0)
		return;
	pthread_mutex_lock(&log_lock);
	log_write_buffer();
	log_buffer_owned = false;
	pthread_mutex_unlock(&log_lock);
}

void log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	log_write_buffer();
	pthread_mutex_unlock(&log_lock);
}

/* Lock held. A full buffer is written out first, so lines stay in order. */
static void log_buffer_put(const char *line, size_t len)
{
	if (log_buffered + len > sizeof(log_buffer))
		log_write_buffer();
	memcpy(log_buffer + log_buffered, line, len);
	log_buffered += len;
}

/* Lock held. */
static void log_write_buffer(void)
{
	if (log_buffered == 0)
		return;
	log_write_all(log_buffer, log_buffered);
	log_buffered = 0;
}

/* Lock held. A line that cannot be written has nowhere to be reported. */
static void log_write_all(const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(log_fd, data, len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EINTR) {
			return;
		}
	}
}

/* ---- fork ---- */

static void log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

static void log_fork_parent(void)
{
	pthread_mutex_unlock(&log_lock);
}

/*
 * The child has one thread, the one that forked. Lines held back are the
 * parent's to write; the buffer stays owned only if the forking thread
 * owned it. The pid changed: the prefix and the syslog tag (rewritten in
 * place, where openlog() points) say so.
 */
static void log_fork_child(void)
{
	log_buffered = 0;
	if (log_buffer_depth == 0)
		log_buffer_owned = false;
	log_set_prefix();
	pthread_mutex_unlock(&log_lock);
}
