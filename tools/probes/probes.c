/*
 * pteplay kernel probes. Usage: probes <case>   (prints one JSON object)
 *                               probes list     (prints case names)
 * Each case runs in its own process (run.sh starts one process per case).
 */
#include "common.h"

#define ASYNC_FEATS (UFFD_FEATURE_WP_ASYNC)
#define WPU (UFFD_FEATURE_WP_UNPOPULATED)

static char *fresh(long n) { return map_anon(n); }
static void populate(char *b, long n)
{
	for (long i = 0; i < n; i++)
		touch_w(b, i);
}
static void madv_obs(const char *step, void *a, size_t len, int advice)
{
	long r = madvise(a, len, advice);
	obs_ret(step, r, errno);
}


/* VmPTE (kB of page tables) from /proc/self/status */
static long vmpte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* ---------------- D1 control ---------------- */
static void case_D1(void)
{
	case_begin("D1", "control: one store after WRITEPROTECT",
		   "anon private 2 pages P=0 Q=1, both written before arming; arm = REGISTER(WP)+WRITEPROTECT(WP) over both; store P; Q untouched");
	/* async */
	char *b = fresh(2);
	populate(b, 2);
	u64 f;
	int u = uffd_new(ASYNC_FEATS, &f);
	uffd_arm(u, b, 2 * PS);
	readings("async: after arm", b, 2);
	access_obs("async: store P", b, 0, 1, NULL);
	access_obs("async: store P again", b, 0, 1, NULL);
	readings("async: after store P", b, 2);
	close(u);
	/* sync */
	b = fresh(2);
	populate(b, 2);
	u = uffd_new(0, &f);
	uffd_arm(u, b, 2 * PS);
	monitor_start(u, b);
	readings("sync: after arm", b, 2);
	access_obs("sync: store P", b, 0, 1, NULL);
	access_obs("sync: store P again", b, 0, 1, NULL);
	readings("sync: after store P", b, 2);
	monitor_stop();
	close(u);
	case_end();
}

/* ---------------- D7/D8 MADV_DONTNEED anon ---------------- */
static void d7_sync(const char *tag, u64 feats)
{
	char step[128];
	char *b = fresh(2);
	populate(b, 2);
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, 2 * PS);
	monitor_start(u, b);
	snprintf(step, sizeof step, "%s: MADV_DONTNEED P", tag);
	madv_obs(step, b, PS, MADV_DONTNEED);
	snprintf(step, sizeof step, "%s: after DONTNEED P", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: after store P", tag);
	readings(step, b, 2);
	monitor_stop();
	close(u);
}
static void case_D7(void)
{
	case_begin("D7/D8", "MADV_DONTNEED on a protected anon page, then a store",
		   "anon private 2 pages P=0 Q=1, both written, armed; MADV_DONTNEED(P); store P. Q keeps a populated PTE so the page table is not reclaimed");
	char *b = fresh(2);
	populate(b, 2);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	readings("async: after arm", b, 2);
	madv_obs("async: MADV_DONTNEED P", b, PS, MADV_DONTNEED);
	readings("async: after DONTNEED P", b, 2);
	access_obs("async: store P", b, 0, 1, NULL);
	readings("async: after store P", b, 2);
	close(u);
	d7_sync("sync (features 0)", 0);
	d7_sync("sync+WP_UNPOPULATED", WPU);
	case_end();
}

/* ---------------- D10/D11 unpopulated anon ---------------- */
static void d10_run(const char *tag, u64 feats, int sync)
{
	char step[160];
	char *b = fresh(2);
	u64 f;
	int u = uffd_new(feats, &f);
	uffd_arm(u, b, 2 * PS);
	if (sync)
		monitor_start(u, b);
	snprintf(step, sizeof step, "%s: after arm (never touched)", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: load Q", tag);
	access_obs(step, b, 1, 0, NULL);
	snprintf(step, sizeof step, "%s: after store P, load Q", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store Q", tag);
	access_obs(step, b, 1, 1, NULL);
	snprintf(step, sizeof step, "%s: after store Q", tag);
	readings(step, b, 2);
	if (sync)
		monitor_stop();
	close(u);
}
static void case_D10(void)
{
	case_begin("D10/D11", "never-touched anon pages under WP, with and without WP_UNPOPULATED",
		   "fresh anon private 2 pages P=0 Q=1 (alone in their 2 MiB PMD range, no page table before arming); arm; store P; load Q; store Q. Sync mode has a monitor thread un-protecting each faulting page");
	d10_run("sync (features 0)", 0, 1);
	d10_run("sync+WP_UNPOPULATED", WPU, 1);
	d10_run("async", ASYNC_FEATS, 0);
	case_end();
}

/* ---------------- holes vs none PTEs ---------------- */
static void case_HOLES(void)
{
	case_begin("HOLES", "pte_none entries vs page-table holes in PAGEMAP_SCAN and pure re-protect",
		   "async; region R = 1024 pages (4 MiB) 2 MiB-aligned, registered whole. Variant A: WRITEPROTECT only pages 0..3 (allocates the page table of half 0: pages 0..3 markers, 4..511 pte_none; half 1 (512..1023) has no page table). Variant B: WRITEPROTECT whole R, store pages 0,1,600, MADV_DONTNEED pages 1..3 (none PTEs in a live table) and MADV_DONTNEED the whole half 1 (>= PMD_SIZE, PT_RECLAIM may free the table)");
	long N = 1024;
	/* variant A */
	char *b = fresh(N);
	int u = uffd_new(ASYNC_FEATS, NULL);
	int e;
	long r = uffd_reg(u, b, N * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("A: register whole region", r, e);
	long pt0 = vmpte_kb();
	r = uffd_wp(u, b, 4 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	long pt1 = vmpte_kb();
	obs_begin("A: WRITEPROTECT pages 0..3");
	jret(r, e);
	jint("VmPTE_delta_kB", pt1 - pt0);
	obs_end();
	readings("A: after WP 0..3", b, N);
	pt0 = vmpte_kb();
	obs_begin("A: WP_MATCHING vec_len=0 (pure re-protect) over whole region");
	scan_emit("scan", b, b, b + N * PS, (struct scanq){.flags = PM_SCAN_WP_MATCHING, .vec_len = 0});
	jint("VmPTE_delta_kB", vmpte_kb() - pt0);
	obs_end();
	readings("A: after pure re-protect", b, N);
	close(u);

	/* variant A2: fast-path WP_MATCHING (outputs) over none+holes */
	b = fresh(N);
	u = uffd_new(ASYNC_FEATS, NULL);
	uffd_reg(u, b, N * PS, UFFDIO_REGISTER_MODE_WP, NULL);
	uffd_wp(u, b, 4 * PS, UFFDIO_WRITEPROTECT_MODE_WP, NULL);
	obs_begin("A2: same setup as A; WP_MATCHING with WRITTEN fast query (vec_len 1024)");
	scan_emit("scan", b, b, b + N * PS,
		  (struct scanq){.flags = PM_SCAN_WP_MATCHING, .mask = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 1024});
	obs_end();
	readings("A2: after fast-path WP_MATCHING", b, N);
	close(u);

	/* variant A3: generic-path WP_MATCHING with no masks (outputs all pages) over none+holes */
	b = fresh(N);
	u = uffd_new(ASYNC_FEATS, NULL);
	uffd_reg(u, b, N * PS, UFFDIO_REGISTER_MODE_WP, NULL);
	uffd_wp(u, b, 4 * PS, UFFDIO_WRITEPROTECT_MODE_WP, NULL);
	obs_begin("A3: same setup as A; WP_MATCHING, no masks, return_mask=all (vec_len 1024)");
	scan_emit("scan", b, b, b + N * PS, (struct scanq){.flags = PM_SCAN_WP_MATCHING, .retmask = PAGE_ALL_CATS, .vec_len = 1024});
	obs_end();
	readings("A3: after generic WP_MATCHING", b, N);
	close(u);

	/* variant B */
	b = fresh(N);
	u = uffd_new(ASYNC_FEATS, NULL);
	pt0 = vmpte_kb();
	uffd_arm(u, b, N * PS);
	obs_begin("B: arm whole region (REGISTER+WRITEPROTECT)");
	jint("VmPTE_delta_kB", vmpte_kb() - pt0);
	obs_end();
	readings("B: after arm of whole region", b, N);
	touch_w(b, 0);
	touch_w(b, 1);
	touch_w(b, 600);
	readings("B: after stores to 0,1,600", b, N);
	madv_obs("B: MADV_DONTNEED pages 1..3", b + PS, 3 * PS, MADV_DONTNEED);
	pt0 = vmpte_kb();
	r = madvise(b + 512 * PS, 512 * PS, MADV_DONTNEED);
	obs_begin("B: MADV_DONTNEED pages 512..1023");
	jret(r, errno);
	jint("VmPTE_delta_kB", vmpte_kb() - pt0);
	obs_end();
	readings("B: after DONTNEEDs", b, N);
	pt0 = vmpte_kb();
	obs_begin("B: WP_MATCHING vec_len=0 (pure re-protect) over whole region");
	scan_emit("scan", b, b, b + N * PS, (struct scanq){.flags = PM_SCAN_WP_MATCHING, .vec_len = 0});
	jint("VmPTE_delta_kB", vmpte_kb() - pt0);
	obs_end();
	readings("B: after pure re-protect", b, N);
	r = uffd_wp(u, b, N * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("B: UFFDIO_WRITEPROTECT whole region again", r, e);
	readings("B: after WRITEPROTECT again", b, N);
	access_obs("B: store page 700 (marker from WRITEPROTECT)", b, 700, 1, NULL);
	access_obs("B: store page 2", b, 2, 1, NULL);
	close(u);
	case_end();
}

/* ---------------- PAGEMAP_SCAN argument handling ---------------- */
static void case_SCANARGS(void)
{
	case_begin("SCANARGS", "PAGEMAP_SCAN argument handling",
		   "async; 8 pages all written, armed, then stores to pages 1,2,3,5,6. Queries over [0,8) unless noted; default vec_len 1024");
	long N = 8;
	char *b = fresh(N);
	populate(b, N);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, N * PS);
	int w[] = {1, 2, 3, 5, 6};
	for (int i = 0; i < 5; i++)
		touch_w(b, w[i]);
	readings("baseline", b, N);
	struct scanq q;
	q = Q_FAST; q.size = 95;
	obs_scan("size=95", b, 0, N, q);
	q = Q_FAST; q.size = 104;
	obs_scan("size=104", b, 0, N, q);
	q = Q_FAST; q.flags = 1 << 2;
	obs_scan("unknown flag bit 2", b, 0, N, q);
	q = Q_FAST; q.mask |= 1 << 9;
	obs_scan("category_mask bit 9", b, 0, N, q);
	q = Q_FAST; q.retmask |= 1ULL << 9;
	obs_scan("return_mask bit 9", b, 0, N, q);
	q = Q_FAST; q.inv = 1ULL << 9;
	obs_scan("category_inverted bit 9", b, 0, N, q);
	q = Q_FAST; q.anyof = 1ULL << 9;
	obs_scan("category_anyof_mask bit 9", b, 0, N, q);
	q = (struct scanq){.mask = PAGE_IS_SOFT_DIRTY, .retmask = PAGE_ALL_CATS, .vec_len = 1024};
	obs_scan("category_mask SOFT_DIRTY (soft-dirty compiled out)", b, 0, N, q);
	obs_begin("start unaligned (base+1)");
	scan_emit("scan", b, b + 1, b + N * PS, Q_FAST);
	obs_end();
	obs_begin("end unaligned (base + 5 pages + 1 byte)");
	scan_emit("scan", b, b, b + 5 * PS + 1, Q_FAST);
	obs_end();
	obs_scan("end == start (page 2)", b, 2, 2, Q_FAST);
	obs_begin("end < start (start page 4, end page 2)");
	scan_emit("scan", b, b + 4 * PS, b + 2 * PS, Q_FAST);
	obs_end();
	q = Q_FAST; q.vec_null = 1; q.vec_len = 1;
	obs_scan("vec NULL, vec_len 1", b, 0, N, q);
	q = Q_FAST; q.vec_null = 1; q.vec_len = 0;
	obs_scan("vec NULL, vec_len 0, no flags", b, 0, N, q);
	q = Q_FAST; q.vec_len = 0;
	obs_scan("vec non-NULL, vec_len 0, no flags", b, 0, N, q);
	q = Q_FAST; q.max_pages = 2;
	obs_scan("fast, max_pages 2", b, 0, N, q);
	q = Q_FAST; q.max_pages = 4;
	obs_scan("fast, max_pages 4", b, 0, N, q);
	q = Q_GEN; q.max_pages = 2;
	obs_scan("generic, max_pages 2", b, 0, N, q);
	q = Q_FAST; q.vec_len = 1;
	obs_scan("fast, vec_len 1", b, 0, N, q);
	q = Q_GEN; q.vec_len = 1;
	obs_scan("generic, vec_len 1", b, 0, N, q);
	q = Q_FULL; q.vec_len = 2;
	obs_scan("full, vec_len 2", b, 0, N, q);
	q = (struct scanq){.retmask = PAGE_IS_PRESENT, .vec_len = 1024};
	obs_scan("return_mask PRESENT only (merge on masked categories)", b, 0, N, q);
	q = (struct scanq){.retmask = PAGE_IS_PRESENT | PAGE_IS_WRITTEN, .vec_len = 1024};
	obs_scan("return_mask PRESENT|WRITTEN", b, 0, N, q);
	q = (struct scanq){.retmask = 0, .vec_len = 1024};
	obs_scan("return_mask 0", b, 0, N, q);
	q = (struct scanq){.inv = PAGE_IS_WRITTEN, .mask = PAGE_IS_WRITTEN, .retmask = PAGE_ALL_CATS, .vec_len = 1024};
	obs_scan("inverted WRITTEN, mask WRITTEN (unwritten pages)", b, 0, N, q);
	q = (struct scanq){.inv = PAGE_IS_WRITTEN, .mask = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 1024};
	obs_scan("inverted WRITTEN, mask WRITTEN, return WRITTEN", b, 0, N, q);
	q = (struct scanq){.mask = PAGE_IS_WPALLOWED, .retmask = PAGE_ALL_CATS, .vec_len = 1024};
	obs_scan("mask WPALLOWED", b, 0, N, q);
	q = (struct scanq){.inv = PAGE_IS_WPALLOWED, .mask = PAGE_IS_WPALLOWED, .retmask = PAGE_ALL_CATS, .vec_len = 1024};
	obs_scan("inverted+mask WPALLOWED (excludes async VMA)", b, 0, N, q);
	q = (struct scanq){.anyof = PAGE_IS_WRITTEN | PAGE_IS_SWAPPED, .retmask = PAGE_ALL_CATS, .vec_len = 1024};
	obs_scan("anyof WRITTEN|SWAPPED", b, 0, N, q);
	q = Q_FAST; q.flags = PM_SCAN_CHECK_WPASYNC;
	obs_scan("fast with CHECK_WPASYNC only (async VMA)", b, 0, N, q);
	q = Q_FAST; q.flags = PM_SCAN_WP_MATCHING; q.max_pages = 1;
	obs_scan("fast WP_MATCHING, max_pages 1", b, 0, N, q);
	readings("after fast WP_MATCHING max_pages 1", b, N);
	q = Q_GEN; q.flags = PM_SCAN_WP_MATCHING; q.max_pages = 1;
	obs_scan("generic WP_MATCHING, max_pages 1", b, 0, N, q);
	readings("after generic WP_MATCHING max_pages 1", b, N);
	q = Q_FAST; q.flags = PM_SCAN_WP_MATCHING; q.vec_len = 1;
	obs_scan("fast WP_MATCHING, vec_len 1", b, 0, N, q);
	readings("after fast WP_MATCHING vec_len 1", b, N);
	q = (struct scanq){.flags = PM_SCAN_WP_MATCHING, .max_pages = 1, .vec_len = 0};
	obs_scan("WP_MATCHING vec_len 0 max_pages 1 (pure re-protect ignores max_pages?)", b, 0, N, q);
	readings("after pure re-protect max_pages 1", b, N);
	close(u);
	case_end();
}

/* ---------------- D28 mixed VMAs ---------------- */
static void d28_variant(const char *tag, u64 flags, int b_sync)
{
	char step[160];
	char *b = fresh(6);
	populate(b, 6);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	uffd_arm(u, b + 4 * PS, 2 * PS);
	int u2 = -1;
	if (b_sync) {
		u2 = uffd_new(0, NULL);
		uffd_arm(u2, b + 2 * PS, 2 * PS);
		monitor_start(u2, b);
	}
	for (long i = 0; i < 6; i++)
		touch_w(b, i);
	if (b_sync)
		monitor_settle();
	snprintf(step, sizeof step, "%s: after stores to all 6 pages", tag);
	obs_begin(step);
	maps_obs("vmas", b, 0, 6);
	pagemap_runs("pagemap", b, 0, 6);
	if (b_sync)
		print_msgs("msgs", 0);
	obs_end();
	snprintf(step, sizeof step, "%s: fast query", tag);
	struct scanq q = Q_FAST;
	q.flags = flags;
	obs_scan(step, b, 0, 6, q);
	snprintf(step, sizeof step, "%s: after the query", tag);
	readings(step, b, 6);
	if (b_sync)
		monitor_stop();
	close(u);
	if (u2 >= 0)
		close(u2);
}
static void case_D28(void)
{
	case_begin("D28", "PAGEMAP_SCAN over [async A][non-async B][async C]",
		   "one 6-page anon mapping, A=0..1 and C=4..5 registered+armed with an async uffd, B=2..3 unregistered (VMA split by registration). All pages stored after arming. The fast WRITTEN query is run with the given flags, then readings. Variant 'B sync' registers B with a second, sync uffd (monitor un-protects)");
	d28_variant("WP_MATCHING|CHECK_WPASYNC", PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 0);
	d28_variant("CHECK_WPASYNC", PM_SCAN_CHECK_WPASYNC, 0);
	d28_variant("WP_MATCHING", PM_SCAN_WP_MATCHING, 0);
	d28_variant("no flags", 0, 0);
	d28_variant("B sync, WP_MATCHING|CHECK_WPASYNC", PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 1);
	d28_variant("B sync, WP_MATCHING", PM_SCAN_WP_MATCHING, 1);
	case_end();
}

/* ---------------- UFFDIO_API and friends ---------------- */
static void api_obs(const char *step, int fd, u64 feats)
{
	struct uffdio_api api = {.api = UFFD_API, .features = feats};
	long r = ioctl(fd, UFFDIO_API, &api);
	int e = errno;
	obs_begin(step);
	jret(r, e);
	if (r == 0) {
		printf(",\"features\":");
		print_feats(api.features);
		printf(",\"ioctls\":\"0x%llx\"", (unsigned long long)api.ioctls);
	} else {
		printf(",\"features_after\":\"0x%llx\"", (unsigned long long)api.features);
	}
	obs_end();
}
static void case_API(void)
{
	case_begin("API", "UFFDIO_API / REGISTER / WRITEPROTECT error handling",
		   "fresh userfaultfd(O_CLOEXEC|O_NONBLOCK) per step unless noted; anon private mappings");
	int fd = uffd_open_raw();
	api_obs("API features=WP_ASYNC", fd, UFFD_FEATURE_WP_ASYNC);
	api_obs("second API on same fd (features 0)", fd, 0);
	close(fd);
	fd = uffd_open_raw();
	api_obs("API features=0", fd, 0);
	close(fd);
	fd = uffd_open_raw();
	api_obs("API features=WP_UNPOPULATED", fd, WPU);
	close(fd);
	fd = uffd_open_raw();
	api_obs("API features=bit63", fd, 1ULL << 63);
	api_obs("API features=0 on the same fd after the failed call", fd, 0);
	close(fd);
	fd = uffd_open_raw();
	{
		struct uffdio_api api = {.api = 0xab, .features = 0};
		long r = ioctl(fd, UFFDIO_API, &api);
		obs_ret("API with api=0xAB", r, errno);
	}
	close(fd);
	char *b = fresh(5);
	int e;
	long r;
	fd = uffd_open_raw();
	r = uffd_reg(fd, b, PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("REGISTER before API", r, e);
	r = uffd_wp(fd, b, PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("WRITEPROTECT before API", r, e);
	close(fd);

	int u1 = uffd_new(ASYNC_FEATS, NULL);
	int u2 = uffd_new(ASYNC_FEATS, NULL);
	r = uffd_reg(u1, b, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("uffd1 REGISTER pages 0..1", r, e);
	r = uffd_reg(u1, b, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("uffd1 REGISTER pages 0..1 again (same ctx)", r, e);
	r = uffd_reg(u2, b, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("uffd2 REGISTER pages 0..1 (owned by uffd1)", r, e);
	r = uffd_reg(u2, b + PS, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("uffd2 REGISTER pages 1..2 (overlaps uffd1)", r, e);
	r = uffd_reg(u1, b + 2 * PS, PS, 0, &e);
	obs_ret("REGISTER mode 0", r, e);
	r = uffd_reg(u1, b + 2 * PS, PS, 8, &e);
	obs_ret("REGISTER mode 8 (unknown)", r, e);
	r = uffd_reg(u1, b + 2 * PS + 1, PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("REGISTER unaligned start", r, e);
	r = uffd_wp(u1, b + 2 * PS, PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("WRITEPROTECT on unregistered page 2", r, e);
	r = uffd_wp(u1, b, 3 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("WRITEPROTECT pages 0..2 (page 2 unregistered)", r, e);
	pagemap_obs("pagemap after the failed partial WRITEPROTECT", b, 3);
	r = uffd_wp(u1, b, 2 * PS, UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE, &e);
	obs_ret("WRITEPROTECT mode WP|DONTWAKE", r, e);
	r = uffd_wp(u1, b, 2 * PS, 4, &e);
	obs_ret("WRITEPROTECT mode 4 (unknown)", r, e);
	r = uffd_wp(u1, b, 2 * PS, UFFDIO_WRITEPROTECT_MODE_DONTWAKE, &e);
	obs_ret("WRITEPROTECT mode DONTWAKE (un-WP)", r, e);
	r = uffd_wp(u1, b, 2 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("WRITEPROTECT pages 0..1 (registered)", r, e);
	pagemap_obs("pagemap after WRITEPROTECT 0..1", b, 3);
	r = uffd_wp(u1, b, 2 * PS, 0, &e);
	obs_ret("async un-WP (mode 0) pages 0..1", r, e);
	readings("after async un-WP of never-touched pages 0..1", b, 3);
	close(u1);
	close(u2);

	/* gap between two registered VMAs */
	char *g = fresh(5);
	u1 = uffd_new(ASYNC_FEATS, NULL);
	munmap(g + 2 * PS, PS);
	r = uffd_reg(u1, g, 5 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("gap: REGISTER pages 0..4 with page 2 unmapped", r, e);
	r = uffd_reg(u1, g, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("gap: REGISTER pages 0..1", r, e);
	r = uffd_reg(u1, g + 3 * PS, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("gap: REGISTER pages 3..4", r, e);
	r = uffd_wp(u1, g, 5 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("gap: WRITEPROTECT pages 0..4 across the gap", r, e);
	obs_begin("gap: after WRITEPROTECT across the gap");
	maps_obs("vmas", g, 0, 5);
	pagemap_runs("pagemap", g, 0, 5);
	obs_end();
	r = uffd_wp(u1, g + 2 * PS, PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	obs_ret("gap: WRITEPROTECT only the unmapped page 2", r, e);
	obs_begin("gap: fast scan with CHECK_WPASYNC across the gap");
	scan_emit("scan", g, g, g + 5 * PS, (struct scanq){.flags = PM_SCAN_CHECK_WPASYNC | PM_SCAN_WP_MATCHING, .mask = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 64});
	obs_end();
	close(u1);

	/* registration of a read-only private mapping and a PROT_NONE one */
	char *ro = map_anon_flags(1, PROT_READ, 0);
	u1 = uffd_new(ASYNC_FEATS, NULL);
	r = uffd_reg(u1, ro, PS, UFFDIO_REGISTER_MODE_WP, &e);
	obs_ret("REGISTER(WP) on a PROT_READ anon mapping", r, e);
	close(u1);

	/* clear_refs 4 with soft-dirty compiled out */
	int cr = open("/proc/self/clear_refs", O_WRONLY);
	r = write(cr, "4", 1);
	obs_ret("write '4' to /proc/self/clear_refs (CONFIG_MEM_SOFT_DIRTY=n)", r, errno);
	r = write(cr, "6", 1);
	obs_ret("write '6' to /proc/self/clear_refs", r, errno);
	close(cr);
	case_end();
}

/* ---------------- D3 merge blocked ---------------- */
static void d3_run(const char *tag, u64 feats, int do_reg)
{
	char step[128];
	char *b = fresh(4);
	populate(b, 4);
	int u = -1;
	if (do_reg) {
		u = uffd_new(feats, NULL);
		uffd_arm(u, b, 4 * PS);
	}
	char *n = mmap(b + 4 * PS, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	snprintf(step, sizeof step, "%s: after mmap(MAP_FIXED) of page 4", tag);
	obs_begin(step);
	jbool("mmap_ok", n == b + 4 * PS);
	maps_obs("vmas", b, 0, 5);
	pagemap_runs("pagemap", b, 0, 5);
	obs_end();
	if (do_reg) {
		int e;
		long r = uffd_wp(u, b + 4 * PS, PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
		snprintf(step, sizeof step, "%s: WRITEPROTECT new page 4", tag);
		obs_ret(step, r, e);
		snprintf(step, sizeof step, "%s: readings", tag);
		readings(step, b, 5);
		close(u);
	}
}
static void case_D3(void)
{
	case_begin("D3", "new adjacent mapping does not merge into a registered VMA",
		   "4 anon pages written, registered+armed; mmap 1 page MAP_FIXED right after with the same prot and flags; VMAs covering [0,5) listed as [start,end,perms]");
	d3_run("registered async", ASYNC_FEATS, 1);
	d3_run("registered sync", 0, 1);
	d3_run("not registered", 0, 0);
	case_end();
}

/* ---------------- D14 mremap ---------------- */
static void d14_run(const char *tag, u64 feats)
{
	char step[160];
	char *b = fresh(4);
	populate(b, 4);
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, 4 * PS);
	touch_w(b, 1); /* page 1 written after arming */
	char *resv = fresh(8); /* destination area (replaced) */
	char *dst = resv + PS; /* not PMD-aligned */
	int ev = !!(feats & UFFD_FEATURE_EVENT_REMAP);
	if (ev)
		monitor_start(u, b);
	char *n = mremap(b, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	int e = errno;
	if (ev)
		monitor_settle();
	snprintf(step, sizeof step, "%s: mremap 4 pages to a non-PMD-aligned address", tag);
	obs_begin(step);
	jbool("ok", n == dst);
	if (n != dst)
		jstr("errno", errname(e));
	if (ev) {
		/* from relative to the old base; to relative to the new base */
		printf(",\"remap_msgs\":[");
		int cnt = __atomic_load_n(&nmq, __ATOMIC_ACQUIRE);
		for (int i = 0; i < cnt; i++)
			printf("%s{\"event\":\"%s\",\"from_rel_old\":%ld,\"to_rel_new\":%ld,\"len_pages\":%ld}", i ? "," : "",
			       mq[i].event == UFFD_EVENT_REMAP ? "remap" : "other",
			       rel(mq[i].a, b), rel(mq[i].b, dst), (long)(mq[i].c / PS));
		printf("]");
	}
	obs_end();
	snprintf(step, sizeof step, "%s: readings at new address", tag);
	readings(step, dst, 4);
	struct scanq q = Q_FAST;
	q.flags = PM_SCAN_CHECK_WPASYNC;
	snprintf(step, sizeof step, "%s: fast CHECK_WPASYNC", tag);
	obs_scan(step, dst, 0, 4, q);
	q.flags = PM_SCAN_WP_MATCHING;
	snprintf(step, sizeof step, "%s: fast WP_MATCHING", tag);
	obs_scan(step, dst, 0, 4, q);
	snprintf(step, sizeof step, "%s: readings after WP_MATCHING", tag);
	readings(step, dst, 4);
	long r = uffd_wp(u, dst, 4 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
	snprintf(step, sizeof step, "%s: WRITEPROTECT at new address", tag);
	obs_ret(step, r, e);
	snprintf(step, sizeof step, "%s: readings after WRITEPROTECT", tag);
	readings(step, dst, 4);
	snprintf(step, sizeof step, "%s: store new page 2", tag);
	access_obs(step, dst, 2, 1, NULL);
	snprintf(step, sizeof step, "%s: final readings", tag);
	readings(step, dst, 4);
	if (ev)
		monitor_stop();
	close(u);
}
static void case_D14(void)
{
	case_begin("D14", "mremap(MAYMOVE|FIXED) of a tracked range to a non-PMD-aligned address",
		   "async; 4 anon pages written, armed, then page 1 stored again (written); mremap to dst (PMD offset 1 page). Then readings at dst, scans, WRITEPROTECT at dst, store dst page 2");
	d14_run("async, no EVENT_REMAP", ASYNC_FEATS);
	d14_run("async + EVENT_REMAP", ASYNC_FEATS | UFFD_FEATURE_EVENT_REMAP);
	case_end();
}

/* ---------------- D26 close ---------------- */
static void case_D26(void)
{
	case_begin("D26", "close(uffd) in the middle of an async epoch",
		   "async; P=0, Q=1 written, armed; store P; close(uffd); readings; store Q");
	char *b = fresh(2);
	populate(b, 2);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	touch_w(b, 0);
	readings("before close", b, 2);
	close(u);
	readings("after close", b, 2);
	struct scanq q = Q_FAST;
	q.flags = PM_SCAN_CHECK_WPASYNC;
	obs_scan("fast CHECK_WPASYNC after close", b, 0, 2, q);
	access_obs("store Q", b, 1, 1, NULL);
	readings("after store Q", b, 2);

	/* unregister variant */
	b = fresh(2);
	populate(b, 2);
	u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	touch_w(b, 0);
	struct uffdio_range ur = {(u64)(uintptr_t)b, 2 * PS};
	long r = ioctl(u, UFFDIO_UNREGISTER, &ur);
	obs_ret("variant: UFFDIO_UNREGISTER instead of close", r, errno);
	readings("after UNREGISTER", b, 2);
	access_obs("store Q after UNREGISTER", b, 1, 1, NULL);
	close(u);

	/* markers: fresh pages under async, then close */
	b = fresh(2);
	u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	readings("markers variant: fresh 2 pages armed", b, 2);
	close(u);
	readings("markers variant: after close", b, 2);
	access_obs("markers variant: store P", b, 0, 1, NULL);
	case_end();
}

/* ---------------- D16 THP ---------------- */
static char *thp_region(void)
{
	char *b = fresh(512);
	madvise(b, PMD_SZ, MADV_HUGEPAGE);
	return b;
}
static void thp_obs(const char *step, char *b)
{
	obs_begin(step);
	jint("AnonHugePages_kB", anon_huge_kb(b));
	obs_end();
}
static void d16_run(const char *tag, u64 feats, int sync)
{
	char step[160];
	char *b = thp_region();
	struct rusage r0, r1;
	getrusage(RUSAGE_THREAD, &r0);
	populate(b, 512);
	getrusage(RUSAGE_THREAD, &r1);
	snprintf(step, sizeof step, "%s: after writing all 512 pages", tag);
	obs_begin(step);
	jint("AnonHugePages_kB", anon_huge_kb(b));
	jint("minflt_populate", r1.ru_minflt - r0.ru_minflt);
	obs_end();
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, PMD_SZ);
	if (sync)
		monitor_start(u, b);
	snprintf(step, sizeof step, "%s: after arm", tag);
	readings(step, b, 512);
	thp_obs("AnonHugePages after arm", b);
	snprintf(step, sizeof step, "%s: store subpage 7", tag);
	access_obs(step, b, 7, 1, NULL);
	snprintf(step, sizeof step, "%s: after store subpage 7", tag);
	readings(step, b, 512);
	snprintf(step, sizeof step, "%s: AnonHugePages after store", tag);
	thp_obs(step, b);
	snprintf(step, sizeof step, "%s: store subpage 8", tag);
	access_obs(step, b, 8, 1, NULL);
	snprintf(step, sizeof step, "%s: store subpage 7 again", tag);
	access_obs(step, b, 7, 1, NULL);
	snprintf(step, sizeof step, "%s: after store subpage 8", tag);
	readings(step, b, 512);
	if (!sync) {
		/* full-range WP_MATCHING re-protect of a PTE-mapped range */
		struct scanq q = Q_FAST;
		q.flags = PM_SCAN_WP_MATCHING;
		snprintf(step, sizeof step, "%s: fast WP_MATCHING", tag);
		obs_scan(step, b, 0, 512, q);
		snprintf(step, sizeof step, "%s: after WP_MATCHING", tag);
		readings(step, b, 512);
	}
	if (sync)
		monitor_stop();
	close(u);
}
static void d16_fresh(const char *tag, u64 feats, int arm, int sync)
{
	char step[160];
	char *b = thp_region();
	int u = -1;
	if (arm) {
		u = uffd_new(feats, NULL);
		uffd_arm(u, b, PMD_SZ);
		if (sync)
			monitor_start(u, b);
		snprintf(step, sizeof step, "%s: after arm (never touched)", tag);
		obs_begin(step);
		pagemap_runs("pagemap", b, 0, 512);
		scan_emit("fast", b, b, b + PMD_SZ, Q_FAST);
		scan_emit("full", b, b, b + PMD_SZ, Q_FULL);
		obs_end();
	}
	snprintf(step, sizeof step, "%s: store subpage 7", tag);
	access_obs(step, b, 7, 1, NULL);
	snprintf(step, sizeof step, "%s: after store", tag);
	obs_begin(step);
	jint("AnonHugePages_kB", anon_huge_kb(b));
	pagemap_runs("pagemap", b, 0, 512);
	scan_emit("full", b, b, b + PMD_SZ, Q_FULL);
	obs_end();
	if (sync)
		monitor_stop();
	if (u >= 0)
		close(u);
}
static void d16_zero(void)
{
	/* huge zero page: load on fresh THP-eligible region, then arm, then store */
	char *b = thp_region();
	access_obs("hugezero: load subpage 0 (fresh, unarmed)", b, 0, 0, NULL);
	obs_begin("hugezero: after load");
	jint("AnonHugePages_kB", anon_huge_kb(b));
	pagemap_runs("pagemap", b, 0, 512);
	scan_emit("full", b, b, b + PMD_SZ, Q_FULL);
	obs_end();
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, PMD_SZ);
	readings("hugezero: after arm", b, 512);
	access_obs("hugezero: store subpage 7", b, 7, 1, NULL);
	obs_begin("hugezero: after store");
	jint("AnonHugePages_kB", anon_huge_kb(b));
	pagemap_runs("pagemap", b, 0, 512);
	scan_emit("fast", b, b, b + PMD_SZ, Q_FAST);
	scan_emit("full", b, b, b + PMD_SZ, Q_FULL);
	obs_end();
	close(u);
}
static void case_D16(void)
{
	char setup[512];
	char en[64] = "", df[64] = "", zp[16] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) { fgets(en, sizeof en, f); fclose(f); }
	f = fopen("/sys/kernel/mm/transparent_hugepage/defrag", "r");
	if (f) { fgets(df, sizeof df, f); fclose(f); }
	f = fopen("/sys/kernel/mm/transparent_hugepage/use_zero_page", "r");
	if (f) { fgets(zp, sizeof zp, f); fclose(f); }
	en[strcspn(en, "\n")] = 0;
	df[strcspn(df, "\n")] = 0;
	zp[strcspn(zp, "\n")] = 0;
	snprintf(setup, sizeof setup,
		 "2 MiB-aligned 2 MiB anon VMA with MADV_HUGEPAGE. THP enabled=%s defrag=%s use_zero_page=%s. AnonHugePages read from /proc/self/smaps for this VMA",
		 en, df, zp);
	case_begin("D16", "THP: one-byte store after arming; arming of never-touched THP-eligible ranges", setup);
	d16_run("async", ASYNC_FEATS, 0);
	d16_run("sync", 0, 1);
	d16_fresh("fresh, no uffd (control)", 0, 0, 0);
	d16_fresh("fresh, async (WP_UNPOPULATED implied)", ASYNC_FEATS, 1, 0);
	d16_fresh("fresh, sync without WP_UNPOPULATED", 0, 1, 1);
	d16_fresh("fresh, sync+WP_UNPOPULATED", WPU, 1, 1);
	d16_zero();
	case_end();
}

/* ---------------- D9/D20 shmem ---------------- */
static char *shm_map(long n)
{
	int fd = memfd_create("probe", 0);
	ftruncate(fd, n * PS);
	char *resv = fresh(n);
	char *b = mmap(resv, n * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (b == MAP_FAILED) {
		perror("mmap shmem");
		exit(2);
	}
	return b;
}
static void d9_run(const char *tag, int advice, u64 feats, int sync)
{
	char step[160];
	char *b = shm_map(2);
	populate(b, 2);
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, 2 * PS);
	if (sync)
		monitor_start(u, b);
	snprintf(step, sizeof step, "%s: after arm", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: after store P", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: madvise(P,Q)", tag);
	madv_obs(step, b, 2 * PS, advice);
	snprintf(step, sizeof step, "%s: after madvise", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: load Q", tag);
	access_obs(step, b, 1, 0, NULL);
	snprintf(step, sizeof step, "%s: after load Q", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store Q", tag);
	access_obs(step, b, 1, 1, NULL);
	snprintf(step, sizeof step, "%s: store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: after stores", tag);
	readings(step, b, 2);
	if (sync)
		monitor_stop();
	close(u);
}
static void case_D9(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int nswap = 0;
	while (f && fgets(line, sizeof line, f))
		nswap++;
	if (f)
		fclose(f);
	char setup[400];
	snprintf(setup, sizeof setup,
		 "memfd MAP_SHARED 2 pages P=0 Q=1, both written, armed (WP_ASYNC allows shmem); store P; madvise(P,Q); load Q; store Q; store P. Active swap devices: %d", nswap - 1);
	case_begin("D9/D20", "shmem: MADV_DONTNEED and MADV_PAGEOUT on protected pages", setup);
	d9_run("async DONTNEED", MADV_DONTNEED, ASYNC_FEATS, 0);
	d9_run("async PAGEOUT", MADV_PAGEOUT, ASYNC_FEATS, 0);
	d9_run("sync DONTNEED", MADV_DONTNEED, 0, 1);
	case_end();
}

/* ---------------- D5 mprotect ---------------- */
static void case_D5(void)
{
	case_begin("D5", "mprotect RO then RW on protected pages",
		   "async; 3 anon pages P=0 Q=1 written, R=2 never touched (marker), armed; store Q (written); mprotect(all, READ); mprotect(all, READ|WRITE); readings; stores");
	char *b = fresh(3);
	touch_w(b, 0);
	touch_w(b, 1);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 3 * PS);
	touch_w(b, 1);
	readings("after arm, store Q", b, 3);
	long r = mprotect(b, 3 * PS, PROT_READ);
	obs_ret("mprotect READ", r, errno);
	readings("after mprotect READ", b, 3);
	r = mprotect(b, 3 * PS, PROT_READ | PROT_WRITE);
	obs_ret("mprotect READ|WRITE", r, errno);
	readings("after mprotect READ|WRITE", b, 3);
	access_obs("store P", b, 0, 1, NULL);
	access_obs("store Q (was written before the mprotects)", b, 1, 1, NULL);
	access_obs("store R (marker)", b, 2, 1, NULL);
	readings("after stores", b, 3);
	/* PROT_NONE round trip */
	r = uffd_wp(u, b, 3 * PS, UFFDIO_WRITEPROTECT_MODE_WP, NULL);
	mprotect(b, 3 * PS, PROT_NONE);
	mprotect(b, 3 * PS, PROT_READ | PROT_WRITE);
	readings("re-armed, mprotect NONE then READ|WRITE", b, 3);
	access_obs("store P", b, 0, 1, NULL);
	readings("after store P", b, 3);
	close(u);
	case_end();
}

/* ---------------- D12 fork ---------------- */
static void d12_run(const char *tag, u64 feats)
{
	char step[160];
	char *b = fresh(2);
	populate(b, 2);
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, 2 * PS);
	touch_w(b, 0);
	int ev = !!(feats & UFFD_FEATURE_EVENT_FORK);
	if (ev) {
		mon_unprotect = 0;
		monitor_start(u, b);
	}
	snprintf(step, sizeof step, "%s: parent before fork", tag);
	readings(step, b, 2);
	int pfd[2];
	pipe(pfd);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		first_obs = 1;
		/* /proc/self/pagemap opened by the parent still refers to the parent's mm */
		close(pm_fd);
		pm_fd = -1;
		mon_run = 0;
		readings("child: readings", b, 2);
		struct scanq q = Q_FAST;
		q.flags = PM_SCAN_CHECK_WPASYNC;
		obs_scan("child: fast CHECK_WPASYNC", b, 0, 2, q);
		q.flags = PM_SCAN_WP_MATCHING;
		obs_scan("child: fast WP_MATCHING", b, 0, 2, q);
		access_obs("child: store Q", b, 1, 1, NULL);
		readings("child: after store Q", b, 2);
		fflush(stdout);
		_exit(0);
	}
	close(pfd[1]);
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	while ((n = read(pfd[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	int st;
	waitpid(pid, &st, 0);
	if (ev)
		monitor_settle();
	snprintf(step, sizeof step, "%s: child view", tag);
	obs_begin(step);
	jint("child_exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf(",\"child\":[%s]", buf);
	if (ev) {
		printf(",\"parent_uffd_events\":[");
		int cnt = __atomic_load_n(&nmq, __ATOMIC_ACQUIRE);
		for (int i = 0; i < cnt; i++)
			printf("%s\"%s\"", i ? "," : "", mq[i].event == UFFD_EVENT_FORK ? "fork" : "other");
		printf("]");
	}
	obs_end();
	snprintf(step, sizeof step, "%s: parent after fork", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: parent store Q", tag);
	access_obs(step, b, 1, 1, NULL);
	snprintf(step, sizeof step, "%s: parent store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: parent after stores", tag);
	readings(step, b, 2);
	if (ev) {
		monitor_stop();
		mon_unprotect = 1;
	}
	close(u);
}
static void case_D12(void)
{
	case_begin("D12", "fork with async tracking",
		   "async; P=0 Q=1 written, armed; store P (written), Q protected; fork. Child reads pagemap and scans, stores Q; results passed to the parent through a pipe. Then parent stores Q and P");
	d12_run("no EVENT_FORK", ASYNC_FEATS);
	d12_run("EVENT_FORK", ASYNC_FEATS | UFFD_FEATURE_EVENT_FORK);
	case_end();
}

/* ---------------- zero page ---------------- */
static void case_ZERO(void)
{
	case_begin("ZERO", "zero page under async WP",
		   "async; fresh 2 pages P=0 Q=1 armed (markers); load P; store P. Variant: load Q before arming (zero page, then armed), then store Q");
	char *b = fresh(2);
	touch_r(b, 1);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 2 * PS);
	readings("after arm (P marker, Q zero page)", b, 2);
	access_obs("load P", b, 0, 0, NULL);
	readings("after load P", b, 2);
	access_obs("store P", b, 0, 1, NULL);
	access_obs("store Q", b, 1, 1, NULL);
	readings("after stores", b, 2);
	close(u);
	/* sync with MADV_POPULATE_READ workaround */
	b = fresh(2);
	long r = madvise(b, 2 * PS, MADV_POPULATE_READ);
	obs_ret("sync features 0: MADV_POPULATE_READ", r, errno);
	u = uffd_new(0, NULL);
	uffd_arm(u, b, 2 * PS);
	monitor_start(u, b);
	readings("sync: after arm of zero pages", b, 2);
	access_obs("sync: store P", b, 0, 1, NULL);
	readings("sync: after store P", b, 2);
	monitor_stop();
	close(u);
	case_end();
}


/* ---------------- unregistered VMAs: none vs holes ---------------- */
static void case_NOUFFD(void)
{
	case_begin("NOUFFD", "PAGEMAP_SCAN on VMAs never registered with userfaultfd",
		   "no uffd at all. (a) anon 1024 pages 2 MiB-aligned: store page 0 (page table for half 0 exists: pages 1..511 pte_none; half 1 is a hole). (b) memfd MAP_SHARED 4 pages: store page 0, pages 1..3 never touched. (c) anon 2 pages, both loaded (zero page)");
	long N = 1024;
	char *b = fresh(N);
	touch_w(b, 0);
	readings("anon: after store page 0", b, N);
	obs_begin("anon: WP_MATCHING fast query (VMA not async: skipped?)");
	scan_emit("scan", b, b, b + N * PS,
		  (struct scanq){.flags = PM_SCAN_WP_MATCHING, .mask = PAGE_IS_WRITTEN, .retmask = PAGE_IS_WRITTEN, .vec_len = 64});
	obs_end();
	obs_begin("anon: WP_MATCHING vec_len 0");
	scan_emit("scan", b, b, b + N * PS, (struct scanq){.flags = PM_SCAN_WP_MATCHING, .vec_len = 0});
	obs_end();
	pagemap_obs("anon: pagemap after the WP_MATCHING scans", b, N);
	int fd = memfd_create("probe", 0);
	ftruncate(fd, 4 * PS);
	char *resv = fresh(4);
	char *m = mmap(resv, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	touch_w(m, 0);
	readings("shmem: after store page 0", m, 4);
	char *z = fresh(2);
	touch_r(z, 0);
	touch_r(z, 1);
	readings("anon: after loads (zero page)", z, 2);
	case_end();
}

/* ---------------- swap (needs an active swap device) ---------------- */
static int swap_active(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		n++;
	if (f)
		fclose(f);
	return n - 1;
}
static void swap_anon(const char *tag, u64 feats, int sync)
{
	char step[160];
	char *b = fresh(2);
	populate(b, 2);
	int u = uffd_new(feats, NULL);
	uffd_arm(u, b, 2 * PS);
	if (sync)
		monitor_start(u, b);
	snprintf(step, sizeof step, "%s: store P", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: MADV_PAGEOUT P,Q", tag);
	madv_obs(step, b, 2 * PS, MADV_PAGEOUT);
	snprintf(step, sizeof step, "%s: after PAGEOUT", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: load Q (swap-in)", tag);
	access_obs(step, b, 1, 0, NULL);
	snprintf(step, sizeof step, "%s: after load Q", tag);
	readings(step, b, 2);
	snprintf(step, sizeof step, "%s: store Q", tag);
	access_obs(step, b, 1, 1, NULL);
	snprintf(step, sizeof step, "%s: store P (swapped, not protected)", tag);
	access_obs(step, b, 0, 1, NULL);
	snprintf(step, sizeof step, "%s: after stores", tag);
	readings(step, b, 2);
	if (sync)
		monitor_stop();
	close(u);
}
static void case_SWAP(void)
{
	int n = swap_active();
	char setup[300];
	snprintf(setup, sizeof setup,
		 "anon private P=0 Q=1 written, armed; store P; MADV_PAGEOUT(P,Q); load Q; store Q; store P. Then shmem with PAGEOUT as in D9/D20. Active swap devices: %d (run.sh sets up a small zram swap if none is active)", n);
	case_begin("D19/D20-swap", "swap-out and swap-in of protected pages", setup);
	obs_begin("swap devices");
	jint("active", n);
	obs_end();
	if (n > 0) {
		swap_anon("async anon", ASYNC_FEATS, 0);
		swap_anon("sync anon", 0, 1);
		d9_run("async shmem PAGEOUT with swap", MADV_PAGEOUT, ASYNC_FEATS, 0);
	} else {
		swap_anon("async anon (no swap device)", ASYNC_FEATS, 0);
	}
	case_end();
}

/* ---------------- guard markers ---------------- */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
static void case_GUARD(void)
{
	case_begin("GUARD", "guard markers (MADV_GUARD_INSTALL) in an async-tracked VMA",
		   "async; 4 anon pages written, armed; store page 0; MADV_GUARD_INSTALL on pages 1 and 3; readings; pure re-protect; MADV_GUARD_REMOVE on 1 and 3; readings");
	char *b = fresh(4);
	populate(b, 4);
	int u = uffd_new(ASYNC_FEATS, NULL);
	uffd_arm(u, b, 4 * PS);
	touch_w(b, 0);
	madv_obs("MADV_GUARD_INSTALL page 1", b + PS, PS, MADV_GUARD_INSTALL);
	madv_obs("MADV_GUARD_INSTALL page 3", b + 3 * PS, PS, MADV_GUARD_INSTALL);
	readings("after guard install", b, 4);
	obs_scan("WP_MATCHING vec_len 0", b, 0, 4, (struct scanq){.flags = PM_SCAN_WP_MATCHING, .vec_len = 0});
	readings("after pure re-protect", b, 4);
	madv_obs("MADV_GUARD_REMOVE page 1", b + PS, PS, MADV_GUARD_REMOVE);
	madv_obs("MADV_GUARD_REMOVE page 3", b + 3 * PS, PS, MADV_GUARD_REMOVE);
	readings("after guard remove", b, 4);
	close(u);
	/* UFFDIO_WRITEPROTECT (change_protection) over guard markers */
	b = fresh(4);
	populate(b, 4);
	u = uffd_new(ASYNC_FEATS, NULL);
	uffd_reg(u, b, 4 * PS, UFFDIO_REGISTER_MODE_WP, NULL);
	madv_obs("variant: registered, not armed: MADV_GUARD_INSTALL page 1", b + PS, PS, MADV_GUARD_INSTALL);
	{
		int e;
		long r = uffd_wp(u, b, 4 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
		obs_ret("variant: UFFDIO_WRITEPROTECT over pages 0..3", r, e);
	}
	readings("variant: after UFFDIO_WRITEPROTECT", b, 4);
	close(u);
	char *n = fresh(2);
	touch_w(n, 0);
	madv_obs("unregistered: MADV_GUARD_INSTALL page 1", n + PS, PS, MADV_GUARD_INSTALL);
	readings("unregistered: after guard install", n, 2);
	case_end();
}

/* ---------------- registration of regular-file mappings ---------------- */
static void case_FILEREG(void)
{
	case_begin("FILEREG", "UFFDIO_REGISTER(WP) on regular-file mappings (sync vs WP_ASYNC)",
		   "2-page regular file on the root filesystem (created in /tmp), mapped MAP_PRIVATE and MAP_SHARED; register with a sync (features 0) and an async uffd; async: arm, store page 0, readings");
	char path[] = "/tmp/pteplay-probe-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	ftruncate(fd, 2 * PS);
	const char *names[] = {"MAP_PRIVATE", "MAP_SHARED"};
	int fl[] = {MAP_PRIVATE, MAP_SHARED};
	char step[160];
	for (int i = 0; i < 2; i++) {
		char *resv = fresh(2);
		char *m = mmap(resv, 2 * PS, PROT_READ | PROT_WRITE, fl[i] | MAP_FIXED, fd, 0);
		int e;
		int us = uffd_new(0, NULL);
		long r = uffd_reg(us, m, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
		snprintf(step, sizeof step, "%s: sync REGISTER(WP)", names[i]);
		obs_ret(step, r, e);
		close(us);
		int ua = uffd_new(ASYNC_FEATS, NULL);
		r = uffd_reg(ua, m, 2 * PS, UFFDIO_REGISTER_MODE_WP, &e);
		snprintf(step, sizeof step, "%s: async REGISTER(WP)", names[i]);
		obs_ret(step, r, e);
		if (r == 0) {
			r = uffd_wp(ua, m, 2 * PS, UFFDIO_WRITEPROTECT_MODE_WP, &e);
			snprintf(step, sizeof step, "%s: async WRITEPROTECT", names[i]);
			obs_ret(step, r, e);
			snprintf(step, sizeof step, "%s: after arm", names[i]);
			readings(step, m, 2);
			snprintf(step, sizeof step, "%s: store page 0", names[i]);
			access_obs(step, m, 0, 1, NULL);
			snprintf(step, sizeof step, "%s: load page 1", names[i]);
			access_obs(step, m, 1, 0, NULL);
			snprintf(step, sizeof step, "%s: after store 0, load 1", names[i]);
			readings(step, m, 2);
		}
		close(ua);
	}
	close(fd);
	case_end();
}

struct probe {
	const char *name;
	void (*fn)(void);
};
static struct probe probes[] = {
	{"D1", case_D1},       {"D7", case_D7},   {"D10", case_D10}, {"HOLES", case_HOLES}, {"SCANARGS", case_SCANARGS},
	{"D28", case_D28},     {"API", case_API}, {"D3", case_D3},   {"D14", case_D14},     {"D26", case_D26},
	{"D16", case_D16},     {"D9", case_D9},   {"D5", case_D5},   {"D12", case_D12},     {"ZERO", case_ZERO},
	{"NOUFFD", case_NOUFFD}, {"SWAP", case_SWAP}, {"GUARD", case_GUARD}, {"FILEREG", case_FILEREG},
};

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "list")) {
		for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++)
			printf("%s\n", probes[i].name);
		return 0;
	}
	for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++)
		if (!strcmp(argv[1], probes[i].name)) {
			probes[i].fn();
			return 0;
		}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 1;
}
