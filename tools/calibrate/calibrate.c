/*
 * calibrate: time, on the RUNNING kernel, every kernel operation pteplay's cost model prices
 * (src/report/cost-model.ts). Used by src/calibrate/ (pteplay calibrate); the method and limits of
 * every measurement are in docs/cost-model.md.
 *
 *   calibrate [quick]     # quick: few samples, ranges up to 2^12 pages (tests)
 *
 * Output (stdout): JSON lines. The first is {"meta":{...}}; then one line per measurement:
 *   {"m":NAME,"unit":U,"p50":ns,"p90":ns,"n":samples}             one timed operation
 *   {"m":NAME,"unit":U,"points":[[size,p50,p90,n],...]}          a sweep over sizes (the TS side fits
 *                                                                 fixed + per-unit by least squares)
 *   {"m":NAME,"status":"unavailable","why":"..."}                 cannot be measured here
 * Times are ns of CLOCK_MONOTONIC minus the timer's own median overhead. Fault times are the
 * mean of a batch of BATCH consecutive faults (one sample per batch). The process pins itself to
 * one CPU (sched_setaffinity) so the monitor thread of the sync round trip shares it.
 * A measurement that fails prints status unavailable with the errno; the helper exits 0 unless
 * its own setup (mmap of the work areas) fails (exit 2).
 */
#include "../probes/common.h"
#include <sched.h>
#include <sys/utsname.h>
#include <time.h>

#define BATCH 8
#define MAXPTS 32

static int quick;
static double timer_ns;

static inline u64 now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (u64)t.tv_sec * 1000000000ULL + (u64)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}
struct stat2 {
	double p50, p90;
	int n;
};
static struct stat2 stats(double *v, int n)
{
	struct stat2 s = {0, 0, n};
	if (n == 0)
		return s;
	qsort(v, n, sizeof *v, cmp_d);
	s.p50 = v[n / 2];
	s.p90 = v[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1];
	return s;
}

static void out_one(const char *m, const char *unit, double *v, int n)
{
	struct stat2 s = stats(v, n);
	printf("{\"m\":\"%s\",\"unit\":\"%s\",\"p50\":%.1f,\"p90\":%.1f,\"n\":%d}\n", m, unit, s.p50, s.p90, s.n);
	fflush(stdout);
}
static void unavailable(const char *m, const char *why)
{
	printf("{\"m\":\"%s\",\"status\":\"unavailable\",\"why\":\"%s\"}\n", m, why);
	fflush(stdout);
}
static void unavailable_errno(const char *m, const char *what, int e)
{
	char why[200];
	snprintf(why, sizeof why, "%s failed: %s", what, errname(e));
	unavailable(m, why);
}

/* A sweep: points appended by pt_add, printed by pt_out. */
struct sweep {
	const char *m, *unit;
	int n;
	double size[MAXPTS];
	struct stat2 s[MAXPTS];
};
static void pt_add(struct sweep *w, double size, double *v, int n)
{
	if (w->n < MAXPTS) {
		w->size[w->n] = size;
		w->s[w->n++] = stats(v, n);
	}
}
static void pt_out(struct sweep *w)
{
	printf("{\"m\":\"%s\",\"unit\":\"%s\",\"points\":[", w->m, w->unit);
	for (int i = 0; i < w->n; i++)
		printf("%s[%.0f,%.1f,%.1f,%d]", i ? "," : "", w->size[i], w->s[i].p50, w->s[i].p90, w->s[i].n);
	printf("]}\n");
	fflush(stdout);
}

/* ---------------- work areas ---------------- */

/* npages of private anonymous memory, 2 MiB aligned, without THP (unless thp). */
static char *area(long npages, int thp)
{
	size_t len = npages * PS, rlen = len + PMD_SZ;
	char *r = mmap(NULL, rlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		perror("calibrate: mmap");
		exit(2);
	}
	char *a = (char *)(((uintptr_t)r + PMD_SZ - 1) & ~(PMD_SZ - 1));
	if (a > r)
		munmap(r, a - r);
	if (a + len < r + rlen)
		munmap(a + len, (r + rlen) - (a + len));
	madvise(a, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return a;
}
static void populate(char *a, long npages)
{
	for (long i = 0; i < npages; i++)
		a[i * PS] = 1;
}

/* Time writes to the pages of `a` in batches of BATCH (pages 0..npages-1, skipping page 0 of every
 * 2 MiB range when skip0: its first touch also allocates the PTE table). Appends per-fault ns. */
static int time_writes(char *a, long npages, int skip0, double *v, int nv)
{
	long list[BATCH];
	int k = 0;
	for (long i = 0; i < npages; i++) {
		if (skip0 && i % 512 == 0)
			continue;
		list[k++] = i;
		if (k < BATCH)
			continue;
		u64 t0 = now_ns();
		for (int j = 0; j < BATCH; j++)
			*(volatile char *)(a + list[j] * PS) = 2;
		u64 t1 = now_ns();
		v[nv++] = ((double)(t1 - t0) - timer_ns) / BATCH;
		k = 0;
	}
	return nv;
}

static long fault_pages(void) { return quick ? 1024 : 16384; }

/* ---------------- uffd ---------------- */

static int uffd_open_api(u64 features, int nonblock)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
	if (fd < 0)
		return -1;
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ioctl(fd, UFFDIO_API, &api)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---------------- faults ---------------- */

static void m_first_touch(void)
{
	long n = fault_pages();
	double *v = malloc(sizeof(double) * n * 2);
	int nv = 0;
	for (int round = 0; round < 3; round++) { /* round 0 is the warm-up */
		char *a = area(n, 0);
		for (long i = 0; i < n; i += 512)
			a[i * PS] = 1; /* the PTE tables */
		int got = time_writes(a, n, 1, v + nv, 0);
		if (round)
			nv += got;
		munmap(a, n * PS);
	}
	out_one("first_touch", "fault", v, nv);
	/* The first touch of a 2 MiB range: a PTE table allocation on top of the fault. */
	long tables = quick ? 64 : 512;
	char *a = area(tables * 512, 0);
	nv = 0;
	for (long t = 0; t < tables; t++) {
		u64 t0 = now_ns();
		*(volatile char *)(a + t * PMD_SZ) = 1;
		v[nv++] = (double)(now_ns() - t0) - timer_ns;
	}
	munmap(a, tables * PMD_SZ);
	out_one("first_touch_new_table", "fault", v, nv);
	free(v);
}

/* CoW (child alive: the pages are shared) or reuse (child exited: do_wp_page reuses). */
static void m_fork_fault(const char *name, int child_lives)
{
	long n = fault_pages();
	double *v = malloc(sizeof(double) * n * 2);
	int nv = 0;
	for (int round = 0; round < 3; round++) {
		char *a = area(n, 0);
		populate(a, n);
		int p[2];
		if (pipe(p)) {
			unavailable_errno(name, "pipe", errno);
			return;
		}
		pid_t c = fork();
		if (c < 0) {
			unavailable_errno(name, "fork", errno);
			return;
		}
		if (c == 0) {
			char b;
			close(p[1]);
			if (child_lives)
				while (read(p[0], &b, 1) < 0 && errno == EINTR)
					;
			_exit(0);
		}
		close(p[0]);
		if (!child_lives)
			waitpid(c, NULL, 0);
		int got = time_writes(a, n, 0, v + nv, 0);
		if (round)
			nv += got;
		close(p[1]);
		if (child_lives)
			waitpid(c, NULL, 0);
		munmap(a, n * PS);
	}
	out_one(name, "fault", v, nv);
	free(v);
}

/* Async uffd-wp: a write to a write-protected present page; marker: to an unpopulated protected one. */
static void m_uffd_async(void)
{
	long n = fault_pages();
	double *v = malloc(sizeof(double) * n * 2), *w = malloc(sizeof(double) * n * 2);
	int nv = 0, nw = 0;
	for (int round = 0; round < 3; round++) {
		int fd = uffd_open_api(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 1);
		if (fd < 0) {
			unavailable_errno("uffd_async_fault", "userfaultfd + UFFDIO_API(WP_ASYNC|WP_UNPOPULATED)", errno);
			unavailable_errno("marker_double_fault", "userfaultfd + UFFDIO_API(WP_ASYNC|WP_UNPOPULATED)", errno);
			return;
		}
		char *a = area(n, 0);
		populate(a, n);
		int e;
		if (uffd_reg(fd, a, n * PS, UFFDIO_REGISTER_MODE_WP, &e) || uffd_wp(fd, a, n * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e)) {
			unavailable_errno("uffd_async_fault", "UFFDIO_REGISTER/WRITEPROTECT", e);
			unavailable_errno("marker_double_fault", "UFFDIO_REGISTER/WRITEPROTECT", e);
			return;
		}
		int got = time_writes(a, n, 0, v + nv, 0);
		if (round)
			nv += got;
		/* markers: zap the pages (the PTE tables stay), then protect the empty range */
		madvise(a, n * PS, MADV_DONTNEED);
		uffd_wp(fd, a, n * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
		got = time_writes(a, n, 0, w + nw, 0);
		if (round)
			nw += got;
		close(fd);
		munmap(a, n * PS);
	}
	out_one("uffd_async_fault", "fault", v, nv);
	out_one("marker_double_fault", "fault", w, nw);
	free(v);
	free(w);
}

static volatile int mon_stop;
/* A CPU other than the pinned one that this process may run on, or -1 (set in main). */
static int other_cpu = -1;
struct monitor_arg {
	int fd;
	int cpu; /* the CPU the monitor runs on (-1: the process's, i.e. the pinned one) */
};
static void *sync_monitor(void *arg)
{
	struct monitor_arg *m = arg;
	int fd = m->fd;
	if (m->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(m->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	}
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (!mon_stop) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		struct uffd_msg msg;
		if (read(fd, &msg, sizeof msg) != sizeof msg)
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		u64 pg = msg.arg.pagefault.address & ~(PS - 1);
		struct uffdio_writeprotect wp = {.range = {pg, PS}, .mode = 0};
		ioctl(fd, UFFDIO_WRITEPROTECT, &wp);
	}
	return NULL;
}

/* Sync uffd-wp: fault -> message -> monitor read() -> UFFDIO_WRITEPROTECT(un-protect, wakes); the monitor
 * on the faulting thread's CPU (name "uffd_sync_round_trip") or on another one ("..._cross_cpu": the wake-up
 * is an IPI each way, as for a VMM's or CRIU's monitor thread on its own CPU). */
static void m_uffd_sync(const char *name, int cpu)
{
	long n = quick ? 256 : 4096;
	if (cpu == -2) {
		unavailable(name, "only one CPU is available to this process");
		return;
	}
	int fd = uffd_open_api(0, 1);
	if (fd < 0) {
		unavailable_errno(name, "userfaultfd + UFFDIO_API", errno);
		return;
	}
	char *a = area(n, 0);
	populate(a, n);
	int e;
	if (uffd_reg(fd, a, n * PS, UFFDIO_REGISTER_MODE_WP, &e) || uffd_wp(fd, a, n * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e)) {
		unavailable_errno(name, "UFFDIO_REGISTER/WRITEPROTECT", e);
		return;
	}
	pthread_t t;
	mon_stop = 0;
	struct monitor_arg m = {.fd = fd, .cpu = cpu};
	pthread_create(&t, NULL, sync_monitor, &m);
	double *v = malloc(sizeof(double) * n);
	int nv = 0;
	long warm = n / 8;
	for (long i = 0; i < n; i++) {
		u64 t0 = now_ns();
		*(volatile char *)(a + i * PS) = 2;
		u64 t1 = now_ns();
		if (i >= warm)
			v[nv++] = (double)(t1 - t0) - timer_ns;
	}
	mon_stop = 1;
	pthread_join(t, NULL);
	close(fd);
	munmap(a, n * PS);
	out_one(name, "fault", v, nv);
	free(v);
}

/* ---------------- sweeps ---------------- */

static long max_pages(void) { return quick ? 1L << 12 : 1L << 18; }
static int samples_for(long pages) { return quick ? (pages >= 1024 ? 3 : 9) : (pages >= 16384 ? 9 : pages >= 1024 ? 31 : 101); }

static int scan(char *a, long pages, u64 flags, struct page_region *vec, long vlen, int *err)
{
	struct pm_scan_arg arg = {.size = sizeof arg,
				  .flags = flags,
				  .start = (u64)(uintptr_t)a,
				  .end = (u64)(uintptr_t)(a + pages * PS),
				  .vec = (u64)(uintptr_t)vec,
				  .vec_len = vlen,
				  .category_mask = PAGE_IS_WRITTEN,
				  .return_mask = PAGE_IS_WRITTEN};
	long r = ioctl(*err, PAGEMAP_SCAN, &arg);
	*err = r < 0 ? errno : 0;
	return (int)r;
}

/* UFFDIO_WRITEPROTECT over 1 .. max pages (protect and un-protect), PAGEMAP_SCAN walks and regions. */
static void m_uffd_sweeps(void)
{
	long max = max_pages();
	int fd = uffd_open_api(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 1);
	if (fd < 0) {
		unavailable_errno("uffdio_writeprotect", "userfaultfd + UFFDIO_API(WP_ASYNC)", errno);
		return;
	}
	char *a = area(max, 0);
	if (madvise(a, max * PS, MADV_POPULATE_WRITE))
		populate(a, max);
	int e;
	u64 t0;
	if (uffd_reg(fd, a, max * PS, UFFDIO_REGISTER_MODE_WP, &e)) {
		unavailable_errno("uffdio_writeprotect", "UFFDIO_REGISTER", e);
		return;
	}
	double *v = malloc(sizeof(double) * 256), *u = malloc(sizeof(double) * 256);
	struct sweep wp = {"uffdio_writeprotect", "call"}, unwp = {"uffdio_writeprotect_unprotect", "call"};
	for (long pages = 1; pages <= max; pages *= 2) {
		int n = samples_for(pages);
		for (int s = -1; s < n; s++) { /* s = -1: warm-up */
			t0 = now_ns();
			uffd_wp(fd, a, pages * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
			u64 t1 = now_ns();
			uffd_wp(fd, a, pages * PS, 0, &e);
			u64 t2 = now_ns();
			if (s >= 0) {
				v[s] = (double)(t1 - t0) - timer_ns;
				u[s] = (double)(t2 - t1) - timer_ns;
			}
		}
		pt_add(&wp, pages, v, n);
		pt_add(&unwp, pages, u, n);
	}
	pt_out(&wp);
	pt_out(&unwp);

	/* PAGEMAP_SCAN over `pages` written pages, returning one region. */
	int pm = open("/proc/self/pagemap", O_RDONLY);
	struct page_region vec[1];
	e = pm;
	if (pm < 0 || (scan(a, 1, 0, vec, 1, &e) < 0)) {
		unavailable_errno("pagemap_scan", "PAGEMAP_SCAN", pm < 0 ? errno : e);
	} else {
		struct sweep walk = {"pagemap_scan_walk", "call"}, wpm = {"pagemap_scan_wp_matching", "call"};
		for (long pages = 1; pages <= max; pages *= 2) {
			int n = samples_for(pages);
			for (int s = -1; s < n; s++) {
				e = pm;
				t0 = now_ns();
				scan(a, pages, 0, vec, 1, &e); /* all written: walks pages, 1 region */
				u64 t1 = now_ns();
				e = pm;
				scan(a, pages, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, vec, 1, &e);
				u64 t2 = now_ns();
				uffd_wp(fd, a, pages * PS, 0, &e); /* written again (not timed) */
				if (s >= 0) {
					v[s] = (double)(t1 - t0) - timer_ns;
					u[s] = (double)(t2 - t1) - timer_ns;
				}
			}
			pt_add(&walk, pages, v, n);
			pt_add(&wpm, pages, u, n);
		}
		pt_out(&walk);
		pt_out(&wpm);
		/* Regions: every other page written, so `pages` pages return pages/2 regions. */
		long rp = quick ? 1024 : 8192;
		struct page_region *rv = malloc(sizeof(*rv) * rp);
		struct sweep reg = {"pagemap_scan_regions", "call"}, regwp = {"pagemap_scan_regions_wp_matching", "call"};
		for (long pages = 2; pages <= rp; pages *= 4) {
			int n = samples_for(pages);
			for (int s = -1; s < n; s++) {
				uffd_wp(fd, a, pages * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
				for (long i = 0; i < pages; i += 2)
					uffd_wp(fd, a + i * PS, PS, 0, &e);
				e = pm;
				t0 = now_ns();
				scan(a, pages, 0, rv, rp, &e);
				u64 t1 = now_ns();
				e = pm;
				scan(a, pages, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, rv, rp, &e);
				u64 t2 = now_ns();
				if (s >= 0) {
					v[s] = (double)(t1 - t0) - timer_ns;
					u[s] = (double)(t2 - t1) - timer_ns;
				}
			}
			pt_add(&reg, pages / 2, v, n);
			pt_add(&regwp, pages / 2, u, n);
		}
		uffd_wp(fd, a, rp * PS, 0, &e);
		pt_out(&reg);
		pt_out(&regwp);
		free(rv);
	}
	/* pagemap pread of `pages` 8-byte entries. */
	if (pm < 0) {
		unavailable_errno("pagemap_read", "open /proc/self/pagemap", errno);
	} else {
		u64 *buf = malloc(8 * max);
		off_t off = (off_t)((uintptr_t)a / PS) * 8;
		struct sweep rd = {"pagemap_read", "call"};
		for (long pages = 1; pages <= max; pages *= 2) {
			int n = samples_for(pages);
			for (int s = -1; s < n; s++) {
				t0 = now_ns();
				ssize_t r = pread(pm, buf, 8 * pages, off);
				u64 t1 = now_ns();
				if (r != 8 * pages) {
					unavailable_errno("pagemap_read", "pread of /proc/self/pagemap", errno);
					pages = max + 1;
					break;
				}
				if (s >= 0)
					v[s] = (double)(t1 - t0) - timer_ns;
			}
			if (pages <= max)
				pt_add(&rd, pages, v, n);
		}
		if (rd.n)
			pt_out(&rd);
		free(buf);
		close(pm);
	}
	/* UFFDIO_REGISTER + UNREGISTER of a small range, per pair of calls. */
	char *b = area(16, 0);
	int n = samples_for(1);
	for (int s = -1; s < n; s++) {
		t0 = now_ns();
		uffd_reg(fd, b, 16 * PS, UFFDIO_REGISTER_MODE_WP, &e);
		u64 t1 = now_ns();
		struct uffdio_range r = {(u64)(uintptr_t)b, 16 * PS};
		ioctl(fd, UFFDIO_UNREGISTER, &r);
		if (s >= 0)
			v[s] = (double)(t1 - t0) - timer_ns;
	}
	out_one("uffdio_register", "call", v, n);
	munmap(b, 16 * PS);
	close(fd);
	munmap(a, max * PS);
	free(v);
	free(u);
}

/* clear_refs "4" (soft-dirty) over `pages` populated pages, re-dirtied between samples. */
static void m_clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0) {
		unavailable_errno("clear_refs", "open /proc/self/clear_refs", errno);
		return;
	}
	if (write(fd, "4", 1) != 1) {
		if (errno == EINVAL)
			unavailable("clear_refs", "not available on this kernel: CONFIG_MEM_SOFT_DIRTY is off (clear_refs 4 gives EINVAL)");
		else
			unavailable_errno("clear_refs", "write of 4 to /proc/self/clear_refs", errno);
		close(fd);
		return;
	}
	/* Without CONFIG_MEM_SOFT_DIRTY the kernel accepts "4" and clears nothing: a freshly written
	 * page must read soft-dirty (pagemap bit 55) for the walk to be the tracker's. */
	char *t = area(1, 0);
	t[0] = 1;
	u64 ent = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0 || pread(pm, &ent, 8, (off_t)((uintptr_t)t / PS) * 8) != 8 || !(ent & (1ULL << 55))) {
		unavailable("clear_refs", "not available on this kernel: CONFIG_MEM_SOFT_DIRTY is off (a written page never reads soft-dirty, pagemap bit 55; clear_refs 4 is accepted and clears nothing)");
		if (pm >= 0)
			close(pm);
		munmap(t, PS);
		close(fd);
		return;
	}
	close(pm);
	munmap(t, PS);
	long max = quick ? 1L << 10 : 1L << 15;
	char *a = area(max, 0);
	double v[128];
	struct sweep w = {"clear_refs", "call"};
	for (long pages = 1; pages <= max; pages *= 4) {
		int n = samples_for(pages) > 31 ? 31 : samples_for(pages);
		for (int s = -1; s < n; s++) {
			populate(a, pages);
			u64 t0 = now_ns();
			if (write(fd, "4", 1) != 1)
				break;
			u64 t1 = now_ns();
			if (s >= 0)
				v[s] = (double)(t1 - t0) - timer_ns;
		}
		pt_add(&w, pages, v, n);
	}
	pt_out(&w);
	close(fd);
	munmap(a, max * PS);
}

/* ---------------- TLB flushes, THP split, syscalls, swap-in ---------------- */

/* mprotect(PROT_READ) of `pages` present pages: writable ones need a flush, read-only ones do not. */
static void m_tlb(void)
{
	static const long sizes[] = {1, 16, 64};
	static const char *names[] = {"tlb_flush_page", "tlb_flush_range", "tlb_flush_full"};
	int n = quick ? 21 : 401;
	double *v = malloc(sizeof(double) * n);
	for (int k = 0; k < 3; k++) {
		long pages = sizes[k];
		for (int shared = 0; shared < 2; shared++) {
			char *a = area(pages, 0);
			populate(a, pages);
			if (shared) { /* fork + exit: the pages stay present, read-only and not exclusive */
				pid_t c = fork();
				if (c == 0)
					_exit(0);
				waitpid(c, NULL, 0);
			}
			for (int s = -1; s < n; s++) {
				u64 t0 = now_ns();
				mprotect(a, pages * PS, PROT_READ);
				u64 t1 = now_ns();
				mprotect(a, pages * PS, PROT_READ | PROT_WRITE);
				if (s >= 0)
					v[s] = (double)(t1 - t0) - timer_ns;
			}
			char nm[64];
			snprintf(nm, sizeof nm, "%s_%s", names[k], shared ? "without" : "with");
			out_one(nm, "call", v, n);
			munmap(a, pages * PS);
		}
	}
	free(v);
}

static int thp_enabled(char *why, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char buf[128] = "";
	if (!f) {
		snprintf(why, len, "no /sys/kernel/mm/transparent_hugepage (kernel without THP)");
		return 0;
	}
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	if (strstr(buf, "[never]")) {
		snprintf(why, len, "transparent_hugepage/enabled is never");
		return 0;
	}
	return 1;
}

/* A page of a THP mprotected read-only: __split_huge_pmd, against the same on 4 KiB pages. */
static void m_thp_split(void)
{
	char why[160];
	if (!thp_enabled(why, sizeof why)) {
		unavailable("thp_split", why);
		return;
	}
	int n = quick ? 5 : 101;
	double *v = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	for (int s = -1; s < n; s++) {
		for (int huge = 0; huge < 2; huge++) {
			char *a = area(512, huge);
			a[0] = 1;
			if (!huge)
				populate(a, 512);
			else {
				struct page_region r;
				struct pm_scan_arg arg = {.size = sizeof arg, .start = (u64)(uintptr_t)a, .end = (u64)(uintptr_t)(a + PMD_SZ),
							  .vec = (u64)(uintptr_t)&r, .vec_len = 1, .category_mask = PAGE_IS_HUGE, .return_mask = PAGE_IS_HUGE};
				if (pm < 0 || ioctl(pm, PAGEMAP_SCAN, &arg) != 1 || r.end - r.start != PMD_SZ) {
					unavailable("thp_split", "no THP was allocated for a 2 MiB MADV_HUGEPAGE area (fragmented memory or THP defrag off)");
					munmap(a, PMD_SZ);
					free(v);
					free(w);
					return;
				}
			}
			u64 t0 = now_ns();
			mprotect(a + 256 * PS, PS, PROT_READ);
			u64 t1 = now_ns();
			if (s >= 0)
				(huge ? v : w)[s] = (double)(t1 - t0) - timer_ns;
			munmap(a, PMD_SZ);
		}
	}
	close(pm);
	out_one("thp_split_mprotect", "call", v, n);
	out_one("thp_split_baseline", "call", w, n);
	free(v);
	free(w);
}

static void m_syscalls(void)
{
	int n = quick ? 51 : 2001;
	double *v = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n), *x = malloc(sizeof(double) * n);
	char *hole = area(4, 0); /* mprotect of an unpopulated page: no PTE, no flush */
	for (int s = -1; s < n; s++) {
		u64 t0 = now_ns();
		char *p = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		u64 t1 = now_ns();
		munmap(p, PS);
		u64 t2 = now_ns();
		mprotect(hole + PS, PS, PROT_READ);
		u64 t3 = now_ns();
		mprotect(hole + PS, PS, PROT_READ | PROT_WRITE);
		if (s >= 0) {
			v[s] = (double)(t1 - t0) - timer_ns;
			w[s] = (double)(t2 - t1) - timer_ns;
			x[s] = (double)(t3 - t2) - timer_ns;
		}
	}
	out_one("mmap", "call", v, n);
	out_one("munmap", "call", w, n);
	out_one("mprotect", "call", x, n);
	munmap(hole, 4 * PS);
	free(v);
	free(w);
	free(x);
}

static void m_swapin(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int devices = 0;
	if (f) {
		while (fgets(line, sizeof line, f))
			devices++;
		fclose(f);
	}
	if (devices <= 1) {
		unavailable("swapin", "no active swap device (/proc/swaps is empty); calibrate does not set one up");
		return;
	}
	long n = quick ? 512 : 4096;
	char *a = area(n, 0);
	for (long i = 0; i < n; i++)
		a[i * PS] = (char)(i | 1); /* non-zero content: not a zero page after swap-in */
	if (madvise(a, n * PS, MADV_PAGEOUT)) {
		unavailable_errno("swapin", "MADV_PAGEOUT", errno);
		return;
	}
	int pm = open("/proc/self/pagemap", O_RDONLY);
	u64 ent = 0;
	if (pm < 0 || pread(pm, &ent, 8, (off_t)((uintptr_t)(a + PS) / PS) * 8) != 8 || !(ent & (1ULL << 62))) {
		unavailable("swapin", "MADV_PAGEOUT did not swap the pages out (pagemap bit 62 clear)");
		return;
	}
	close(pm);
	double *v = malloc(sizeof(double) * n);
	int nv = 0;
	for (long i = 0; i < n; i += BATCH) {
		u64 t0 = now_ns();
		for (int j = 0; j < BATCH; j++)
			(void)*(volatile char *)(a + (i + j) * PS);
		v[nv++] = ((double)(now_ns() - t0) - timer_ns) / BATCH;
	}
	out_one("swapin", "fault", v, nv);
	munmap(a, n * PS);
	free(v);
}

/* ---------------- main ---------------- */

static void json_escape_print(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
}

int main(int argc, char **argv)
{
	quick = argc > 1 && !strcmp(argv[1], "quick");
	const char *only = argc > 2 ? argv[2] : NULL;
	/* Pin to the last CPU we may run on. */
	cpu_set_t set;
	int pinned = -1;
	if (!sched_getaffinity(0, sizeof set, &set)) {
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				pinned = c;
				break;
			}
		for (int c = 0; c < pinned; c++)
			if (CPU_ISSET(c, &set)) {
				other_cpu = c;
				break;
			}
		CPU_ZERO(&set);
		CPU_SET(pinned, &set);
		if (sched_setaffinity(0, sizeof set, &set))
			pinned = -1;
	}
	double tv[4001];
	for (int s = 0; s < 4001; s++) {
		u64 t0 = now_ns();
		u64 t1 = now_ns();
		tv[s] = (double)(t1 - t0);
	}
	timer_ns = stats(tv, 4001).p50;

	struct utsname u;
	uname(&u);
	char cpu[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "model name", 10)) {
				char *c = strchr(line, ':');
				if (c) {
					snprintf(cpu, sizeof cpu, "%s", c + 2);
					cpu[strcspn(cpu, "\n")] = 0;
				}
				break;
			}
		fclose(f);
	}
	printf("{\"meta\":{\"kernel\":\"");
	json_escape_print(u.release);
	printf("\",\"cpu\":\"");
	json_escape_print(cpu);
	printf("\",\"cpus\":%ld,\"pinned_cpu\":%d,\"timer_ns\":%.1f,\"quick\":%s}}\n", sysconf(_SC_NPROCESSORS_ONLN), pinned, timer_ns,
	       quick ? "true" : "false");
	fflush(stdout);

#define RUN(name, call)                                \
	do {                                           \
		if (!only || strstr(only, name))       \
			call;                          \
	} while (0)
	RUN("first_touch", m_first_touch());
	RUN("cow", m_fork_fault("cow_fault", 1));
	RUN("wp_reuse", m_fork_fault("wp_reuse_fault", 0));
	RUN("async", m_uffd_async());
	RUN("sync", m_uffd_sync("uffd_sync_round_trip", -1));
	RUN("sync_cross_cpu", m_uffd_sync("uffd_sync_round_trip_cross_cpu", other_cpu >= 0 ? other_cpu : -2));
	RUN("sweeps", m_uffd_sweeps());
	RUN("clear_refs", m_clear_refs());
	RUN("tlb", m_tlb());
	RUN("thp", m_thp_split());
	RUN("syscalls", m_syscalls());
	RUN("swapin", m_swapin());
	return 0;
}
