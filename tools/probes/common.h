/*
 * pteplay kernel probes: shared helpers (JSON output, userfaultfd, pagemap,
 * PAGEMAP_SCAN, fault counting, sync monitor thread).
 *
 * System headers are Linux 6.1, so newer UAPI bits are defined here.
 * All addresses in the output are page indices relative to a mapping base.
 */
#ifndef PROBES_COMMON_H
#define PROBES_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef uint64_t u64;

#define PS 4096UL
#define PMD_SZ (2UL << 20)

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

struct pm_scan_arg {
	u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct page_region {
	u64 start, end, categories;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#define PAGE_IS_GUARD (1 << 8)
#define PAGE_ALL_CATS 0x1ffULL

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

/* ---------------- JSON output ---------------- */

static int first_obs = 1;

static inline void case_begin(const char *id, const char *title, const char *setup)
{
	printf("{\"case\":\"%s\",\"title\":\"%s\",\"setup\":\"%s\",\"observations\":[", id, title, setup);
	first_obs = 1;
}
static inline void case_end(void)
{
	printf("\n]}\n");
	fflush(stdout);
}
static inline void obs_begin(const char *step)
{
	printf("%s\n{\"step\":\"%s\"", first_obs ? "" : ",", step);
	first_obs = 0;
}
static inline void obs_end(void) { printf("}"); }
static inline void jstr(const char *k, const char *v) { printf(",\"%s\":\"%s\"", k, v); }
static inline void jint(const char *k, long long v) { printf(",\"%s\":%lld", k, v); }
static inline void jbool(const char *k, int v) { printf(",\"%s\":%s", k, v ? "true" : "false"); }
static inline void jnull(const char *k) { printf(",\"%s\":null", k); }

static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}
/* "ret":r,"errno":name|null */
static inline void jret(long r, int e)
{
	printf(",\"ret\":%ld", r);
	if (r < 0)
		printf(",\"errno\":\"%s\"", errname(e));
	else
		printf(",\"errno\":null");
}
/* one-field observation of a syscall/ioctl result */
static inline void obs_ret(const char *step, long r, int e)
{
	obs_begin(step);
	jret(r, e);
	obs_end();
}

static const char *cat_names[] = {"wpallowed", "written", "file", "present", "swapped",
				  "pfnzero", "huge", "soft_dirty", "guard"};
static inline void print_cats(u64 c)
{
	int first = 1;
	printf("[");
	for (int i = 0; i < 64; i++) {
		if (!(c & (1ULL << i)))
			continue;
		if (i < 9)
			printf("%s\"%s\"", first ? "" : ",", cat_names[i]);
		else
			printf("%s\"bit%d\"", first ? "" : ",", i);
		first = 0;
	}
	printf("]");
}
static inline void print_feats(u64 f)
{
	static const char *n[] = {"pagefault_flag_wp", "event_fork", "event_remap", "event_remove",
				  "missing_hugetlbfs", "missing_shmem", "event_unmap", "sigbus",
				  "thread_id", "minor_hugetlbfs", "minor_shmem", "exact_address",
				  "wp_hugetlbfs_shmem", "wp_unpopulated", "poison", "wp_async", "move"};
	int first = 1;
	printf("[");
	for (int i = 0; i < 64; i++) {
		if (!(f & (1ULL << i)))
			continue;
		if (i < 17)
			printf("%s\"%s\"", first ? "" : ",", n[i]);
		else
			printf("%s\"bit%d\"", first ? "" : ",", i);
		first = 0;
	}
	printf("]");
}

/* ---------------- memory helpers ---------------- */

/*
 * Map npages of anon memory (prot, extra flags) at a 2 MiB-aligned address inside a
 * PROT_NONE reservation, so the mapping never merges with neighbours and is the only
 * non-PROT_NONE VMA in its PMD range(s).
 */
static inline char *map_anon_flags(long npages, int prot, int flags)
{
	size_t len = npages * PS;
	size_t rlen = ((len + PMD_SZ - 1) & ~(PMD_SZ - 1)) + 3 * PMD_SZ;
	char *r = mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		perror("mmap reserve");
		exit(2);
	}
	char *a = (char *)(((uintptr_t)r + 2 * PMD_SZ - 1) & ~(PMD_SZ - 1));
	char *m = mmap(a, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | flags, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap fixed");
		exit(2);
	}
	return m;
}
static inline char *map_anon(long npages) { return map_anon_flags(npages, PROT_READ | PROT_WRITE, 0); }

static inline void touch_w(char *base, long page) { *(volatile char *)(base + page * PS) = 1; }
static inline char touch_r(char *base, long page) { return *(volatile char *)(base + page * PS); }

/* ---------------- userfaultfd ---------------- */

static inline int uffd_open_raw(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		perror("userfaultfd");
		exit(2);
	}
	return fd;
}
/* open + UFFDIO_API; exits on failure */
static inline int uffd_new(u64 features, u64 *out)
{
	int fd = uffd_open_raw();
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ioctl(fd, UFFDIO_API, &api)) {
		perror("UFFDIO_API");
		exit(2);
	}
	if (out)
		*out = api.features;
	return fd;
}
static inline long uffd_reg(int fd, void *addr, size_t len, u64 mode, int *err)
{
	struct uffdio_register r = {.range = {(u64)(uintptr_t)addr, len}, .mode = mode};
	long ret = ioctl(fd, UFFDIO_REGISTER, &r);
	if (err)
		*err = errno;
	return ret;
}
static inline long uffd_wp(int fd, void *addr, size_t len, u64 mode, int *err)
{
	struct uffdio_writeprotect w = {.range = {(u64)(uintptr_t)addr, len}, .mode = mode};
	long ret = ioctl(fd, UFFDIO_WRITEPROTECT, &w);
	if (err)
		*err = errno;
	return ret;
}
/* register (WP) + write-protect; exits on failure */
static inline void uffd_arm(int fd, void *addr, size_t len)
{
	int e;
	if (uffd_reg(fd, addr, len, UFFDIO_REGISTER_MODE_WP, &e)) {
		fprintf(stderr, "register: %s\n", errname(e));
		exit(2);
	}
	if (uffd_wp(fd, addr, len, UFFDIO_WRITEPROTECT_MODE_WP, &e)) {
		fprintf(stderr, "writeprotect: %s\n", errname(e));
		exit(2);
	}
}

/* ---------------- sync monitor thread ---------------- */

struct msgrec {
	int event;
	u64 a, b, c;
	unsigned flags;
	long wp_ret;
	int wp_err;
};
static struct msgrec mq[4096];
static int nmq;
static int mon_fd = -1;
static volatile int mon_run, mon_busy;
static int mon_unprotect = 1;
static char *mon_base;
static pthread_t mon_thr;

static void *monitor_main(void *arg)
{
	(void)arg;
	while (mon_run) {
		struct pollfd p = {mon_fd, POLLIN, 0};
		if (poll(&p, 1, 10) <= 0)
			continue;
		struct uffd_msg m;
		__atomic_store_n(&mon_busy, 1, __ATOMIC_SEQ_CST);
		if (read(mon_fd, &m, sizeof m) != sizeof m) {
			__atomic_store_n(&mon_busy, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		int i = __atomic_load_n(&nmq, __ATOMIC_ACQUIRE);
		struct msgrec *r = &mq[i];
		memset(r, 0, sizeof *r);
		r->event = m.event;
		if (m.event == UFFD_EVENT_PAGEFAULT) {
			r->a = m.arg.pagefault.address;
			r->flags = m.arg.pagefault.flags;
		} else if (m.event == UFFD_EVENT_REMAP) {
			r->a = m.arg.remap.from;
			r->b = m.arg.remap.to;
			r->c = m.arg.remap.len;
		} else if (m.event == UFFD_EVENT_FORK) {
			r->a = m.arg.fork.ufd;
		} else if (m.event == UFFD_EVENT_REMOVE || m.event == UFFD_EVENT_UNMAP) {
			r->a = m.arg.remove.start;
			r->b = m.arg.remove.end;
		}
		__atomic_store_n(&nmq, i + 1, __ATOMIC_RELEASE);
		if (m.event == UFFD_EVENT_PAGEFAULT && mon_unprotect) {
			int e;
			r->wp_ret = uffd_wp(mon_fd, (void *)(uintptr_t)(r->a & ~(PS - 1)), PS, 0, &e);
			r->wp_err = r->wp_ret ? e : 0;
		}
		__atomic_store_n(&mon_busy, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}
static inline void monitor_start(int fd, char *base)
{
	mon_fd = fd;
	mon_base = base;
	nmq = 0;
	mon_run = 1;
	pthread_create(&mon_thr, NULL, monitor_main, NULL);
}
static inline void monitor_stop(void)
{
	mon_run = 0;
	pthread_join(mon_thr, NULL);
	mon_fd = -1;
}
static inline void monitor_settle(void)
{
	/* wait for an in-flight message to be fully handled */
	for (int i = 0; i < 20; i++) {
		usleep(2000);
		if (!__atomic_load_n(&mon_busy, __ATOMIC_SEQ_CST))
			break;
	}
	while (__atomic_load_n(&mon_busy, __ATOMIC_SEQ_CST))
		usleep(1000);
}
static inline long rel(u64 addr, char *base) { return (long)(((int64_t)addr - (int64_t)(uintptr_t)base) / (int64_t)PS); }

/* print messages [from, nmq) as JSON array; page indices relative to mon_base */
static inline void print_msgs(const char *key, int from)
{
	int n = __atomic_load_n(&nmq, __ATOMIC_ACQUIRE);
	printf(",\"%s\":[", key);
	for (int i = from; i < n; i++) {
		struct msgrec *r = &mq[i];
		printf("%s{", i == from ? "" : ",");
		if (r->event == UFFD_EVENT_PAGEFAULT) {
			printf("\"event\":\"pagefault\",\"page\":%ld,\"flags\":[", rel(r->a, mon_base));
			int f = 1;
			if (r->flags & UFFD_PAGEFAULT_FLAG_WRITE) { printf("\"write\""); f = 0; }
			if (r->flags & UFFD_PAGEFAULT_FLAG_WP) { printf("%s\"wp\"", f ? "" : ","); f = 0; }
			if (r->flags & 4) { printf("%s\"minor\"", f ? "" : ","); }
			printf("]");
			if (mon_unprotect) {
				printf(",\"unprotect_ret\":%ld", r->wp_ret);
				if (r->wp_ret)
					printf(",\"unprotect_errno\":\"%s\"", errname(r->wp_err));
			}
		} else if (r->event == UFFD_EVENT_REMAP) {
			/* caller interprets from/to; printed as raw deltas in pages to the monitor base */
			printf("\"event\":\"remap\",\"from\":%ld,\"to\":%ld,\"len_pages\":%ld", rel(r->a, mon_base),
			       rel(r->b, mon_base), (long)(r->c / PS));
		} else if (r->event == UFFD_EVENT_FORK) {
			printf("\"event\":\"fork\"");
		} else if (r->event == UFFD_EVENT_REMOVE) {
			printf("\"event\":\"remove\",\"start\":%ld,\"end\":%ld", rel(r->a, mon_base), rel(r->b, mon_base));
		} else if (r->event == UFFD_EVENT_UNMAP) {
			printf("\"event\":\"unmap\",\"start\":%ld,\"end\":%ld", rel(r->a, mon_base), rel(r->b, mon_base));
		} else {
			printf("\"event\":%d", r->event);
		}
		printf("}");
	}
	printf("]");
}

/* ---------------- accesses with fault counting ---------------- */

/*
 * Perform one access on base[page] and record minor/major fault deltas of this thread,
 * plus uffd messages received meanwhile (if a monitor runs).
 */
static inline void access_obs(const char *step, char *base, long page, int write, char *msgbase)
{
	struct rusage r0, r1;
	int m0 = __atomic_load_n(&nmq, __ATOMIC_ACQUIRE);
	getrusage(RUSAGE_THREAD, &r0);
	getrusage(RUSAGE_THREAD, &r0);
	if (write)
		touch_w(base, page);
	else
		(void)touch_r(base, page);
	getrusage(RUSAGE_THREAD, &r1);
	if (mon_run)
		monitor_settle();
	obs_begin(step);
	jstr("op", write ? "store" : "load");
	jint("page", page);
	jint("minflt", r1.ru_minflt - r0.ru_minflt);
	jint("majflt", r1.ru_majflt - r0.ru_majflt);
	if (mon_run) {
		char *sb = mon_base;
		if (msgbase)
			mon_base = msgbase;
		print_msgs("msgs", m0);
		mon_base = sb;
	}
	obs_end();
}

/* ---------------- pagemap ---------------- */

static int pm_fd = -1;
static inline int pagemap_fd(void)
{
	if (pm_fd < 0)
		pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0) {
		perror("pagemap");
		exit(2);
	}
	return pm_fd;
}
#define PM_FLAG_MASK ((1ULL << 55) | (1ULL << 56) | (1ULL << 57) | (1ULL << 58) | (1ULL << 61) | (1ULL << 62) | (1ULL << 63))
static inline void print_pm_flags(u64 e)
{
	static const struct { int bit; const char *n; } b[] = {
		{63, "present"}, {62, "swap"}, {61, "file"}, {58, "guard"}, {57, "uffd_wp"}, {56, "exclusive"}, {55, "soft_dirty"}};
	int first = 1;
	printf("[");
	for (unsigned i = 0; i < sizeof b / sizeof b[0]; i++)
		if (e & (1ULL << b[i].bit)) {
			printf("%s\"%s\"", first ? "" : ",", b[i].n);
			first = 0;
		}
	printf("]");
}
/* pagemap entries for [base+from, base+to) as runs [start,end,[flags]] (indices relative to base) */
static inline void pagemap_runs(const char *key, char *base, long from, long to)
{
	long n = to - from;
	u64 *e = calloc(n, 8);
	ssize_t r = pread(pagemap_fd(), e, n * 8, ((uintptr_t)base / PS + from) * 8);
	printf(",\"%s\":[", key);
	if (r != n * 8) {
		printf("\"pread failed\"]");
		free(e);
		return;
	}
	long s = 0;
	int first = 1;
	for (long i = 1; i <= n; i++) {
		if (i == n || (e[i] & PM_FLAG_MASK) != (e[s] & PM_FLAG_MASK)) {
			printf("%s[%ld,%ld,", first ? "" : ",", from + s, from + i);
			print_pm_flags(e[s]);
			printf("]");
			first = 0;
			s = i;
		}
	}
	printf("]");
	free(e);
}

/* ---------------- PAGEMAP_SCAN ---------------- */

struct scanq {
	u64 flags, inv, mask, anyof, retmask, max_pages, vec_len;
	u64 size;   /* 0 = sizeof(struct pm_scan_arg) */
	int vec_null;
};
#define Q_FAST ((struct scanq){.mask = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 1024})
#define Q_GEN ((struct scanq){.anyof = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 1024})
#define Q_FULL ((struct scanq){.retmask = PAGE_ALL_CATS, .vec_len = 1024})

#define WALK_SENTINEL 0x5a5a5a5a5a5a5a5aULL

static struct page_region scan_vec[2048];

/* run PAGEMAP_SCAN on [start,end); print "key":{ret,errno,walk_end,regions} relative to base */
static inline long scan_emit_ex(const char *key, char *base, char *start, char *end, struct scanq q, int quiet)
{
	struct pm_scan_arg a = {
		.size = q.size ? q.size : sizeof(struct pm_scan_arg),
		.flags = q.flags,
		.start = (u64)(uintptr_t)start,
		.end = (u64)(uintptr_t)end,
		.walk_end = WALK_SENTINEL,
		.vec = q.vec_null ? 0 : (u64)(uintptr_t)scan_vec,
		.vec_len = q.vec_len,
		.max_pages = q.max_pages,
		.category_inverted = q.inv,
		.category_mask = q.mask,
		.category_anyof_mask = q.anyof,
		.return_mask = q.retmask,
	};
	memset(scan_vec, 0xff, sizeof scan_vec);
	long r = ioctl(pagemap_fd(), PAGEMAP_SCAN, &a);
	int e = errno;
	if (quiet)
		return r;
	printf(",\"%s\":{", key);
	printf("\"ret\":%ld", r);
	if (r < 0)
		printf(",\"errno\":\"%s\"", errname(e));
	else
		printf(",\"errno\":null");
	if (a.walk_end == WALK_SENTINEL)
		printf(",\"walk_end\":\"unchanged\"");
	else if (a.walk_end == 0)
		printf(",\"walk_end\":\"zero\"");
	else if ((a.walk_end - (u64)(uintptr_t)base) % PS)
		printf(",\"walk_end\":\"unaligned+%llu\"", (unsigned long long)((a.walk_end - (u64)(uintptr_t)base) % PS));
	else
		printf(",\"walk_end\":%ld", rel(a.walk_end, base));
	/* regions: the first ret entries; on error, whatever entries were written */
	long nreg = 0;
	if (r > 0)
		nreg = r;
	else
		while (nreg < 2048 && scan_vec[nreg].start != ~0ULL)
			nreg++;
	printf(",\"%s\":[", r >= 0 ? "regions" : "regions_written_before_error");
	for (long i = 0; i < nreg && i < 2048; i++) {
		printf("%s[%ld,%ld,", i ? "," : "", rel(scan_vec[i].start, base), rel(scan_vec[i].end, base));
		print_cats(scan_vec[i].categories);
		printf("]");
	}
	printf("]");
	/* entries past the return value touched? */
	if (r >= 0 && r < 2048 && scan_vec[r].start != ~0ULL)
		printf(",\"entry_after_ret_touched\":true");
	printf("}");
	return r;
}
static inline long scan_emit(const char *key, char *base, char *start, char *end, struct scanq q)
{
	return scan_emit_ex(key, base, start, end, q, 0);
}
static inline void obs_scan(const char *step, char *base, long from, long to, struct scanq q)
{
	obs_begin(step);
	scan_emit("scan", base, base + from * PS, base + to * PS, q);
	obs_end();
}

/* the standard set of readings over [base, base+npages) */
static inline void readings(const char *step, char *base, long npages)
{
	obs_begin(step);
	pagemap_runs("pagemap", base, 0, npages);
	scan_emit("fast", base, base, base + npages * PS, Q_FAST);
	scan_emit("gen", base, base, base + npages * PS, Q_GEN);
	scan_emit("full", base, base, base + npages * PS, Q_FULL);
	obs_end();
}
static inline void pagemap_obs(const char *step, char *base, long npages)
{
	obs_begin(step);
	pagemap_runs("pagemap", base, 0, npages);
	obs_end();
}

/* AnonHugePages (kB) of the VMA containing addr, from /proc/self/smaps */
static inline long anon_huge_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	long kb = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}
/* VMAs from /proc/self/maps that intersect [base+from, base+to): list of [start,end] page indices */
static inline void maps_obs(const char *key, char *base, long from, long to)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int first = 1;
	uintptr_t lo = (uintptr_t)base + from * PS, hi = (uintptr_t)base + to * PS;
	printf(",\"%s\":[", key);
	while (fgets(line, sizeof line, f)) {
		unsigned long s, e;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3)
			continue;
		if (e <= lo || s >= hi)
			continue;
		printf("%s[%ld,%ld,\"%s\"]", first ? "" : ",", rel(s < lo ? lo : s, base), rel(e > hi ? hi : e, base), perms);
		first = 0;
	}
	printf("]");
	fclose(f);
}

#endif
