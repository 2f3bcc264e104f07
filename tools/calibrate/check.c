/*
 * check: run a trace's accesses and address-space operations FOR REAL under one dirty-page tracker
 * and time them (`pteplay calibrate --check`, src/calibrate/check-real.ts).
 *
 *   check LANE REPS STREAM      LANE: none | uffd-sync | uffd-sync+unpop | uffd-async | soft-dirty
 *
 * STREAM is the binary form src/calibrate/check-encode.ts writes (all words little-endian u64):
 *   header: MAGIC, number of words that follow, window span in bytes
 *   word:   op << 56 | arg, then the op's argument words (addresses: bytes from the window start)
 *     1 read PAGE  2 write PAGE  3 kwrite PAGE (read() from a pipe into it)  4 kread PAGE (write() from it)
 *     16 mmap arg=prot|flags<<8 ADDR LEN     17 munmap ADDR LEN     18 mprotect arg=prot ADDR LEN
 *     19 madvise arg=advice ADDR LEN         20 mremap arg=flags ADDR OLDLEN NEWLEN NEWADDR (~0: none)
 *     32 reset ADDR LEN                      33 collect arg=re-arm ADDR LEN        (LEN 0: the whole window)
 * The window is mapped at CHECK_BASE (nothing else of this process lives there).
 *
 * Each repetition runs in a forked child with a fresh address space. The tracker is set up before
 * the clock starts (userfaultfd, UFFDIO_API, the monitor thread); the clock stops before the child
 * exits (teardown is not timed). What each lane does at reset / collect mirrors the simulator's
 * drivers (src/lanes/drivers/): registration of mapped ranges not registered yet, UFFDIO_WRITEPROTECT
 * per registered span, PAGEMAP_SCAN(PAGE_IS_WRITTEN, CHECK_WPASYNC [| WP_MATCHING]) with 512 regions
 * per call; the process runs pinned to one CPU and the sync monitor thread on another (when the process
 * may use two: a monitor with a CPU of its own, as calibrate times the round trip); it blocks in poll(), reads the messages, logs the page and
 * un-protects it with UFFDIO_WRITEPROTECT(mode 0), which wakes the faulting thread. soft-dirty (CRIU):
 * reset writes "4" to /proc/self/clear_refs, a collect preads pagemap over each mapped range in range.
 *
 * Output: one line per repetition on stdout:
 *   rep N wall_ns W user_ns U sys_ns S minflt F msgs M signals G scans C
 * A failure prints "error: ..." on stderr and exits 1.
 */
#include "../probes/common.h"
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <time.h>

#define MAGIC 0x31304b4843505450ULL /* "PTPCHK01" */
#define CHECK_BASE 0x100000000000UL
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum { OP_READ = 1, OP_WRITE, OP_KWRITE, OP_KREAD, OP_MMAP = 16, OP_MUNMAP, OP_MPROTECT, OP_MADVISE, OP_MREMAP, OP_RESET = 32, OP_COLLECT };
enum { LANE_NONE, LANE_SYNC, LANE_SYNC_UNPOP, LANE_ASYNC, LANE_SOFT_DIRTY };

static char *const BASE = (char *)CHECK_BASE;
static u64 span;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---------------------------------------------------------------- sets of byte ranges [s, e) */

struct rset {
	u64 *s, *e;
	int n, cap;
};
static void rs_del(struct rset *r, u64 s, u64 e)
{
	struct rset o = *r;
	u64 *ns = malloc((o.n * 2 + 1) * sizeof(u64)), *ne = malloc((o.n * 2 + 1) * sizeof(u64));
	int n = 0;
	for (int i = 0; i < o.n; i++) {
		if (o.e[i] <= s || o.s[i] >= e) {
			ns[n] = o.s[i], ne[n++] = o.e[i];
			continue;
		}
		if (o.s[i] < s)
			ns[n] = o.s[i], ne[n++] = s;
		if (o.e[i] > e)
			ns[n] = e, ne[n++] = o.e[i];
	}
	free(o.s), free(o.e);
	r->s = ns, r->e = ne, r->n = n, r->cap = o.n * 2 + 1;
}
static void rs_add(struct rset *r, u64 s, u64 e)
{
	if (e <= s)
		return;
	rs_del(r, s, e);
	/* insert in order, then merge neighbours that touch */
	if (r->n + 1 > r->cap) {
		r->cap = r->n + 1;
		r->s = realloc(r->s, r->cap * sizeof(u64)), r->e = realloc(r->e, r->cap * sizeof(u64));
	}
	int i = r->n;
	while (i > 0 && r->s[i - 1] > s)
		r->s[i] = r->s[i - 1], r->e[i] = r->e[i - 1], i--;
	r->s[i] = s, r->e[i] = e, r->n++;
	int n = 0;
	for (int k = 0; k < r->n; k++) {
		if (n > 0 && r->e[n - 1] == r->s[k])
			r->e[n - 1] = r->e[k];
		else
			r->s[n] = r->s[k], r->e[n] = r->e[k], n++;
	}
	r->n = n;
}
static int rs_covers(const struct rset *r, u64 s, u64 e)
{
	for (int i = 0; i < r->n; i++)
		if (r->s[i] <= s && r->e[i] >= e)
			return 1;
	return 0;
}

/* The trace's mappings, and the parts of them registered with the monitor's userfaultfd. */
static struct rset mapped, registered;

/* ---------------------------------------------------------------- tracker */

static int lane;
static int uffd = -1;
static int stopfd[2];
static pthread_t mon;
static u64 *msg_log; /* pages of the WP messages since the last re-arm (the sync monitor's dirty set) */
static size_t msg_n, msg_cap, msgs_total;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static u64 scans;

/* The faulting thread runs on pinned_cpu, the sync monitor on monitor_cpu (another CPU when there is one,
 * as a VMM's or CRIU's monitor thread has; -1: not pinned). calibrate measures the round trip the same way. */
static int pinned_cpu = -1, monitor_cpu = -1;

static void *monitor(void *arg)
{
	(void)arg;
	if (monitor_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(monitor_cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	}
	struct uffd_msg m[64];
	for (;;) {
		struct pollfd p[2] = {{uffd, POLLIN, 0}, {stopfd[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("monitor poll: %s", strerror(errno));
		}
		if (p[1].revents)
			return NULL;
		ssize_t r = read(uffd, m, sizeof m);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("monitor read: %s", strerror(errno));
		}
		for (size_t i = 0; i < (size_t)r / sizeof m[0]; i++) {
			if (m[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			u64 a = m[i].arg.pagefault.address & ~(PS - 1);
			pthread_mutex_lock(&log_lock);
			if (msg_n == msg_cap) {
				msg_cap = msg_cap ? 2 * msg_cap : 4096;
				msg_log = realloc(msg_log, msg_cap * sizeof *msg_log);
			}
			msg_log[msg_n++] = a;
			msgs_total++;
			pthread_mutex_unlock(&log_lock);
			struct uffdio_writeprotect w = {.range = {a, PS}, .mode = 0};
			while (ioctl(uffd, UFFDIO_WRITEPROTECT, &w) && errno == EAGAIN)
				;
		}
	}
}

/* Register every mapped part of [s, e) that is not registered yet (what a monitor does after reading
 * /proc/pid/maps); fresh parts are added to `fresh` when given. */
static void register_new(u64 s, u64 e, struct rset *fresh)
{
	struct rset todo = {0};
	for (int i = 0; i < mapped.n; i++) {
		u64 a = mapped.s[i] > s ? mapped.s[i] : s, b = mapped.e[i] < e ? mapped.e[i] : e;
		if (a < b)
			rs_add(&todo, a, b);
	}
	for (int i = 0; i < registered.n; i++)
		rs_del(&todo, registered.s[i], registered.e[i]);
	for (int i = 0; i < todo.n; i++) {
		struct uffdio_register rg = {.range = {(u64)(uintptr_t)BASE + todo.s[i], todo.e[i] - todo.s[i]}, .mode = UFFDIO_REGISTER_MODE_WP};
		if (ioctl(uffd, UFFDIO_REGISTER, &rg))
			continue; /* not registrable: left untracked, tried again at the next reset (as the simulator) */
		rs_add(&registered, todo.s[i], todo.e[i]);
		if (fresh)
			rs_add(fresh, todo.s[i], todo.e[i]);
	}
	free(todo.s), free(todo.e);
}

static void writeprotect_spans(u64 s, u64 e, const struct rset *spans)
{
	for (int i = 0; i < spans->n; i++) {
		u64 a = spans->s[i] > s ? spans->s[i] : s, b = spans->e[i] < e ? spans->e[i] : e;
		if (a >= b)
			continue;
		struct uffdio_writeprotect w = {.range = {(u64)(uintptr_t)BASE + a, b - a}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w))
			die("UFFDIO_WRITEPROTECT: %s", strerror(errno));
	}
}

static struct page_region vec[512];

/* PAGEMAP_SCAN(PAGE_IS_WRITTEN) over [s, e), continued from walk_end; returns 0 or the errno. */
static int scan(u64 s, u64 e, u64 flags, u64 vec_len)
{
	u64 a = (u64)(uintptr_t)BASE + s, end = (u64)(uintptr_t)BASE + e;
	while (a < end) {
		struct pm_scan_arg arg = {.size = sizeof arg, .flags = flags, .start = a, .end = end, .vec = vec_len ? (u64)(uintptr_t)vec : 0,
					  .vec_len = vec_len, .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN};
		scans++;
		if (ioctl(pagemap_fd(), PAGEMAP_SCAN, &arg) < 0)
			return errno;
		if (arg.walk_end <= a)
			break;
		a = arg.walk_end;
	}
	return 0;
}

static u64 *pm_buf;
static size_t pm_cap;

static void clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0 || write(fd, "4", 1) != 1)
		die("clear_refs: %s", strerror(errno));
	close(fd);
}

/* pread /proc/self/pagemap over each mapped range in [s, e), one call per range (as CRIU reads a VMA) */
static void read_pagemap(u64 s, u64 e)
{
	for (int i = 0; i < mapped.n; i++) {
		u64 a = mapped.s[i] > s ? mapped.s[i] : s, b = mapped.e[i] < e ? mapped.e[i] : e;
		if (a >= b)
			continue;
		size_t n = (b - a) / PS;
		if (n > pm_cap) {
			pm_cap = n;
			pm_buf = realloc(pm_buf, n * 8);
		}
		scans++;
		if (pread(pagemap_fd(), pm_buf, n * 8, ((uintptr_t)BASE + a) / PS * 8) != (ssize_t)(n * 8))
			die("pagemap pread: %s", strerror(errno));
	}
}

static void reset(u64 s, u64 e)
{
	if (lane == LANE_NONE)
		return;
	if (lane == LANE_SOFT_DIRTY) {
		clear_refs(); /* always the whole mm, whatever the range */
		return;
	}
	if (lane == LANE_ASYNC) {
		struct rset fresh = {0};
		register_new(s, e, &fresh);
		writeprotect_spans(s, e, &fresh);
		for (int i = 0; i < registered.n; i++) {
			u64 a = registered.s[i] > s ? registered.s[i] : s, b = registered.e[i] < e ? registered.e[i] : e;
			if (a < b && !rs_covers(&fresh, a, b))
				scan(a, b, PM_SCAN_WP_MATCHING, 0);
		}
		free(fresh.s), free(fresh.e);
		return;
	}
	pthread_mutex_lock(&log_lock);
	msg_n = 0; /* the dirty set of the interval that ends here */
	pthread_mutex_unlock(&log_lock);
	register_new(s, e, NULL);
	writeprotect_spans(s, e, &registered);
}

static void collect(u64 s, u64 e, int rearm)
{
	if (lane == LANE_NONE)
		return;
	if (lane == LANE_SOFT_DIRTY) {
		read_pagemap(s, e);
		if (rearm)
			clear_refs();
		return;
	}
	if (lane == LANE_ASYNC) {
		u64 flags = PM_SCAN_CHECK_WPASYNC | (rearm ? PM_SCAN_WP_MATCHING : 0);
		if (scan(s, e, flags, 512) == EPERM)
			for (int i = 0; i < registered.n; i++) {
				u64 a = registered.s[i] > s ? registered.s[i] : s, b = registered.e[i] < e ? registered.e[i] : e;
				if (a < b)
					scan(a, b, flags & ~(u64)PM_SCAN_CHECK_WPASYNC, 512);
			}
		if (rearm) {
			struct rset fresh = {0};
			register_new(s, e, &fresh);
			writeprotect_spans(s, e, &fresh);
			free(fresh.s), free(fresh.e);
		}
		return;
	}
	/* sync: the dirty set is the monitor's log (no syscall); re-arm is a reset */
	if (rearm)
		reset(s, e);
}

static void tracker_setup(void)
{
	if (lane == LANE_NONE || lane == LANE_SOFT_DIRTY)
		return;
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		die("userfaultfd: %s", strerror(errno));
	u64 features = lane == LANE_ASYNC ? UFFD_FEATURE_WP_ASYNC : lane == LANE_SYNC_UNPOP ? UFFD_FEATURE_WP_UNPOPULATED : 0;
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API(features 0x%llx): %s", (unsigned long long)features, strerror(errno));
	if (lane == LANE_ASYNC)
		return;
	if (pipe(stopfd))
		die("pipe: %s", strerror(errno));
	if (pthread_create(&mon, NULL, monitor, NULL))
		die("pthread_create failed");
}

static void tracker_stop(void)
{
	if (lane == LANE_SYNC || lane == LANE_SYNC_UNPOP) {
		if (write(stopfd[1], "x", 1) != 1)
			die("stop monitor: %s", strerror(errno));
		pthread_join(mon, NULL);
	}
}

/* ---------------------------------------------------------------- the stream */

static const u64 *words;
static u64 nwords;
static volatile u64 cur; /* the word being executed (an access that takes a signal is skipped) */
static sigjmp_buf jb;
static volatile sig_atomic_t running;
static u64 signals;
static int kpipe[2];

static void on_signal(int sig)
{
	if (running)
		siglongjmp(jb, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static u64 arg1(u64 i)
{
	if (i >= nwords)
		die("stream truncated at word %llu", (unsigned long long)i);
	return words[i];
}

static void run_from(u64 i)
{
	char tmp;
	while (i < nwords) {
		u64 w = words[i];
		unsigned op = w >> 56;
		u64 arg = w & ((1ULL << 56) - 1);
		cur = i;
		switch (op) {
		case OP_READ:
			(void)*(volatile char *)(BASE + arg * PS);
			i++;
			continue;
		case OP_WRITE:
			*(volatile char *)(BASE + arg * PS) = 1;
			i++;
			continue;
		case OP_KWRITE:
			if (write(kpipe[1], "\1", 1) != 1 || read(kpipe[0], BASE + arg * PS, 1) != 1) {
				char drain;
				(void)!read(kpipe[0], &drain, 1); /* EFAULT left the byte in the pipe */
			}
			i++;
			continue;
		case OP_KREAD:
			if (write(kpipe[1], BASE + arg * PS, 1) == 1)
				(void)!read(kpipe[0], &tmp, 1);
			i++;
			continue;
		default:
			break;
		}
		u64 a = arg1(i + 1), l = arg1(i + 2);
		switch (op) {
		case OP_MMAP: {
			int prot = arg & 0xff, flags = (int)(arg >> 8);
			void *m = mmap(BASE + a, l, prot, flags, -1, 0);
			if (m != MAP_FAILED) {
				rs_del(&registered, a, a + ((l + PS - 1) & ~(PS - 1)));
				rs_add(&mapped, a, a + ((l + PS - 1) & ~(PS - 1)));
			}
			i += 3;
			break;
		}
		case OP_MUNMAP:
			if (!munmap(BASE + a, l)) {
				u64 e = a + ((l + PS - 1) & ~(PS - 1));
				rs_del(&mapped, a, e), rs_del(&registered, a, e);
			}
			i += 3;
			break;
		case OP_MPROTECT:
			(void)mprotect(BASE + a, l, (int)arg);
			i += 3;
			break;
		case OP_MADVISE:
			(void)madvise(BASE + a, l, (int)arg);
			i += 3;
			break;
		case OP_MREMAP: {
			u64 nl = arg1(i + 3), na = arg1(i + 4);
			void *m = mremap(BASE + a, l, nl, (int)arg, na == ~0ULL ? NULL : BASE + na);
			if (m != MAP_FAILED) {
				u64 r = (u64)((char *)m - BASE), ol = (l + PS - 1) & ~(PS - 1), nlp = (nl + PS - 1) & ~(PS - 1);
				int was = rs_covers(&registered, a, a + (ol < nlp ? ol : nlp));
				if (r == a) {
					/* in place: a shrink drops the tail, a growth extends the VMA (and its registration) */
					if (nlp < ol)
						rs_del(&mapped, a + nlp, a + ol), rs_del(&registered, a + nlp, a + ol);
					else {
						rs_add(&mapped, a + ol, a + nlp);
						if (was)
							rs_add(&registered, a + ol, a + nlp);
					}
				} else {
					/* moved: without UFFD_FEATURE_EVENT_REMAP the moved VMA loses its registration */
					if (!((int)arg & MREMAP_DONTUNMAP))
						rs_del(&mapped, a, a + ol);
					rs_del(&registered, a, a + ol);
					rs_del(&registered, r, r + nlp);
					rs_add(&mapped, r, r + nlp);
				}
			}
			i += 5;
			break;
		}
		case OP_RESET:
			reset(l ? a : 0, l ? a + l : span);
			i += 3;
			break;
		case OP_COLLECT:
			collect(l ? a : 0, l ? a + l : span, (int)arg);
			i += 3;
			break;
		default:
			die("unknown op %u at word %llu", op, (unsigned long long)i);
		}
	}
}

static u64 now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (u64)t.tv_sec * 1000000000ULL + t.tv_nsec;
}
static u64 tv_ns(struct timeval t) { return (u64)t.tv_sec * 1000000000ULL + (u64)t.tv_usec * 1000ULL; }

/* One repetition, in this (forked) process: prints its line. */
static void run_rep(int rep)
{
	if (pipe(kpipe))
		die("pipe: %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	tracker_setup();
	pagemap_fd();
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	u64 t0 = now_ns(CLOCK_MONOTONIC);
	running = 1;
	if (sigsetjmp(jb, 0)) {
		signals++;
		run_from(cur + 1);
	} else
		run_from(0);
	running = 0;
	u64 t1 = now_ns(CLOCK_MONOTONIC);
	getrusage(RUSAGE_SELF, &r1);
	tracker_stop();
	printf("rep %d wall_ns %llu user_ns %llu sys_ns %llu minflt %ld msgs %llu signals %llu scans %llu\n", rep, (unsigned long long)(t1 - t0),
	       (unsigned long long)(tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime)), (unsigned long long)(tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime)),
	       r1.ru_minflt - r0.ru_minflt, (unsigned long long)msgs_total, (unsigned long long)signals, (unsigned long long)scans);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: check none|uffd-sync|uffd-sync+unpop|uffd-async|soft-dirty REPS STREAM");
	static const char *const names[] = {"none", "uffd-sync", "uffd-sync+unpop", "uffd-async", "soft-dirty"};
	lane = -1;
	for (int k = 0; k < 5; k++)
		if (!strcmp(argv[1], names[k]))
			lane = k;
	if (lane < 0)
		die("unknown lane %s", argv[1]);
	int reps = atoi(argv[2]);
	if (reps < 1)
		die("REPS must be >= 1");
	FILE *f = fopen(argv[3], "rb");
	if (!f)
		die("%s: %s", argv[3], strerror(errno));
	u64 h[3];
	if (fread(h, sizeof h, 1, f) != 1 || h[0] != MAGIC)
		die("%s: not a check stream (bad magic)", argv[3]);
	nwords = h[1], span = h[2];
	u64 *w = malloc((nwords ? nwords : 1) * sizeof(u64));
	if (!w || fread(w, sizeof(u64), nwords, f) != nwords)
		die("%s: truncated (expected %llu words)", argv[3], (unsigned long long)nwords);
	fclose(f);
	words = w;
	cpu_set_t set;
	if (!sched_getaffinity(0, sizeof set, &set)) {
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				if (pinned_cpu < 0)
					pinned_cpu = c;
				else if (monitor_cpu < 0)
					monitor_cpu = c;
			}
		if (monitor_cpu < 0)
			monitor_cpu = pinned_cpu;
		CPU_ZERO(&set);
		CPU_SET(pinned_cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set))
			pinned_cpu = monitor_cpu = -1;
	}
	for (int rep = 0; rep < reps; rep++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			alarm(600);
			run_rep(rep);
			_exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			die("repetition %d died of signal %d", rep, WTERMSIG(st));
		if (WEXITSTATUS(st))
			exit(WEXITSTATUS(st));
	}
	return 0;
}
