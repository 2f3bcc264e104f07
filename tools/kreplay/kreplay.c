/*
 * kreplay: run a line-oriented trace of mm / userfaultfd / pagemap operations on the REAL kernel
 * and print one result line per command. Used by src/verify/kreplay.ts (pteplay verify, test/95-kreplay-diff.test.ts) to diff the kernel
 * against the pteplay simulator.
 *
 * Input (stdin): one command per line; '#' starts a comment; blank lines are ignored. A line
 * "---" ends a trace; every trace runs in its own forked child (a crash or a hang of one trace
 * does not kill the run). Output (stdout): one line per command, in order, then "---" after each
 * trace. A child that dies prints "! died SIGNAME" (or "! exit N") before the "---".
 *
 * Addresses and lengths are byte values RELATIVE TO BASE (a 64 MiB PROT_NONE reservation at the
 * fixed 2 MiB-aligned address KREPLAY_BASE, mapped with MAP_FIXED_NOREPLACE in every child);
 * a number may be decimal or 0x-hex, with an optional leading '-' and an optional 'p' suffix
 * meaning "pages" (3p = 3 * 4096). File offsets and pagemap_scan masks are plain numbers.
 *
 *   mmap OFF LEN PROT FLAGS [BACKING [FOFF]]   PROT: r/w/x letters or '-' ; FLAGS: a|b|c or 0
 *        (private shared anonymous fixed fixed_noreplace populate noreserve hugetlb)
 *        BACKING: anon | memfd:NAME | file:NAME   -> ok <addr>
 *   munmap OFF LEN | mprotect OFF LEN PROT | madvise OFF LEN ADVICE
 *        (dontneed free remove pageout cold willneed populate_read populate_write hugepage
 *         nohugepage collapse)
 *   mremap OFF OLDLEN NEWLEN FLAGS [NEWOFF]     FLAGS: maymove|fixed|dontunmap or 0 -> ok <addr>
 *   write OFF | read OFF                         a user store/load of one byte -> ok | sig SIGSEGV
 *   kwrite OFF | kread OFF                       the kernel stores/loads the byte for us
 *                                                (read() of a 1 from a pipe, write() to a pipe);
 *                                                kwrite stores a non-zero byte, like write, so
 *                                                the page holds data (a stored 0 would let a THP
 *                                                split map it to the zero page:
 *                                                try_to_map_unused_to_zeropage)
 *   userfaultfd FD FLAGS                         FLAGS: cloexec|nonblock|user_mode_only or 0;
 *                                                FD is the trace's (logical) fd number
 *   uffdio_api FD API FEATURES | uffdio_register FD OFF LEN MODE | uffdio_unregister FD OFF LEN
 *   uffdio_writeprotect FD OFF LEN MODE | close FD
 *   pagemap_scan START END FLAGS INVERTED MASK ANYOF RETURN VECLEN MAXPAGES [SIZE [VECNULL]]
 *        -> ok N we=<walk_end|-> r=<start>-<end>:<cats hex>,...   (on error: err E we=.. r=..)
 *   pagemap OFF NPAGES      -> ok <page>+<count>:<flags>,...  (flags: P present, S swap, F file,
 *                              G guard, U uffd_wp, X exclusive, D soft-dirty; '-' none)
 *   maps                    -> ok <start>-<end>:<perms>,...   (VMAs inside the reservation, pages)
 *   messages                -> ok pf:<page>:<w|r>[p],remap:<from>:<to>:<len>,remove:<s>:<e>,
 *                              unmap:<s>:<e>,...  (received since the last "messages")
 *   pwrite memfd:NAME|file:NAME FOFF LEN
 *   clear_refs VALUE        write(2) of VALUE to /proc/self/clear_refs (1-3 young, 4 soft-dirty, 5 hiwater)
 *                           -> ok <bytes written> | err E
 *   fork                    fork a child that only waits (its COW makes the parent's stores fault
 *                           and copy); it lives until "reap" or the end of the trace -> ok <n children>
 *   reap                    SIGKILL and wait for every forked child -> ok <n reaped>
 *
 * KREPLAY_FILEDIR (default /tmp) is where file:NAME objects are created (tmpfs in the VM: shmem).
 *
 * Results: "ok <value>", "err <ERRNO>", "sig <SIGNAME>", "bad <why>" (unparsable command).
 * Page numbers in results are relative to BASE; an address outside the reservation prints as
 * "out:0x..." and an unaligned one as "u:0x<relative bytes>".
 *
 * A monitor thread polls every userfaultfd the trace opened: it records each message and
 * answers a WP page fault with UFFDIO_WRITEPROTECT(mode 0) of the faulting 4 KiB page (the
 * sync-mode monitor of uffd-common.c); non-cooperative events are just read.
 */
#include "../probes/common.h"
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>

#ifndef KREPLAY_BASE
#define KREPLAY_BASE 0x200000000000UL
#endif
#define REGION (64UL << 20)
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static char *const BASE = (char *)KREPLAY_BASE;

/* ---------------------------------------------------------------- output */

static char outbuf[1 << 20];
static size_t outlen;
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(outbuf + outlen, sizeof outbuf - outlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		outlen += (size_t)n < sizeof outbuf - outlen ? (size_t)n : sizeof outbuf - outlen - 1;
}
/* end the result line of one command: write it at once (a later crash must not lose it) */
static void out_end(void)
{
	out("\n");
	size_t off = 0;
	while (off < outlen) {
		ssize_t w = write(1, outbuf + off, outlen - off);
		if (w <= 0)
			break;
		off += w;
	}
	outlen = 0;
}
static void out_ret(long r, int e)
{
	if (r < 0)
		out("err %s", errname(e));
	else
		out("ok %ld", r);
}
/* an address as a page number relative to BASE */
static void out_addr(u64 a)
{
	if (a < (u64)(uintptr_t)BASE || a >= (u64)(uintptr_t)BASE + REGION)
		out("out:0x%llx", (unsigned long long)a);
	else if ((a - (u64)(uintptr_t)BASE) % PS)
		out("u:0x%llx", (unsigned long long)(a - (u64)(uintptr_t)BASE));
	else
		out("%llu", (unsigned long long)((a - (u64)(uintptr_t)BASE) / PS));
}

/* ---------------------------------------------------------------- parsing */

static int parse_num(const char *s, long long *v)
{
	if (!s)
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 0);
	if (end == s || errno)
		return -1;
	if (*end == 'p') {
		x *= (long long)PS;
		end++;
	}
	if (*end)
		return -1;
	*v = x;
	return 0;
}
static int parse_u64(const char *s, u64 *v)
{
	if (!s)
		return -1;
	char *end;
	errno = 0;
	u64 x = strtoull(s, &end, 0);
	if (end == s || *end || errno)
		return -1;
	*v = x;
	return 0;
}
static int parse_prot(const char *s, int *p)
{
	if (!s)
		return -1;
	*p = 0;
	if (!strcmp(s, "none") || !strcmp(s, "0"))
		return 0;
	for (; *s; s++) {
		if (*s == 'r')
			*p |= PROT_READ;
		else if (*s == 'w')
			*p |= PROT_WRITE;
		else if (*s == 'x')
			*p |= PROT_EXEC;
		else if (*s != '-')
			return -1;
	}
	return 0;
}
struct flagname {
	const char *n;
	long v;
};
static int parse_flags(const char *s, const struct flagname *t, long *v)
{
	if (!s)
		return -1;
	*v = 0;
	if (!strcmp(s, "0"))
		return 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		const struct flagname *f = t;
		for (; f->n; f++)
			if (!strcmp(f->n, tok))
				break;
		if (!f->n) {
			long long x;
			if (parse_num(tok, &x))
				return -1;
			*v |= x;
		} else
			*v |= f->v;
	}
	return 0;
}
static const struct flagname mmap_flags[] = {
	{"private", MAP_PRIVATE}, {"shared", MAP_SHARED}, {"anonymous", MAP_ANONYMOUS},
	{"fixed", MAP_FIXED}, {"fixed_noreplace", MAP_FIXED_NOREPLACE}, {"populate", MAP_POPULATE},
	{"noreserve", MAP_NORESERVE}, {"hugetlb", MAP_HUGETLB}, {"growsdown", MAP_GROWSDOWN}, {NULL, 0}};
static const struct flagname mremap_flags[] = {
	{"maymove", MREMAP_MAYMOVE}, {"fixed", MREMAP_FIXED}, {"dontunmap", MREMAP_DONTUNMAP}, {NULL, 0}};
static const struct flagname uffd_flags[] = {
	{"cloexec", O_CLOEXEC}, {"nonblock", O_NONBLOCK}, {"user_mode_only", UFFD_USER_MODE_ONLY}, {NULL, 0}};
static const struct flagname advices[] = {
	{"dontneed", MADV_DONTNEED}, {"free", MADV_FREE}, {"remove", MADV_REMOVE},
	{"pageout", MADV_PAGEOUT}, {"cold", MADV_COLD}, {"willneed", MADV_WILLNEED},
	{"populate_read", MADV_POPULATE_READ}, {"populate_write", MADV_POPULATE_WRITE},
	{"hugepage", MADV_HUGEPAGE}, {"nohugepage", MADV_NOHUGEPAGE}, {"collapse", MADV_COLLAPSE}, {NULL, 0}};

/* ---------------------------------------------------------------- backing objects */

#define MAXOBJ 32
static struct {
	char name[64];
	int fd;
} objs[MAXOBJ];
static int nobj;

static int backing_fd(const char *spec)
{
	int memfd = !strncmp(spec, "memfd:", 6);
	int file = !strncmp(spec, "file:", 5);
	if (!memfd && !file)
		return -2;
	for (int i = 0; i < nobj; i++)
		if (!strcmp(objs[i].name, spec))
			return objs[i].fd;
	if (nobj == MAXOBJ)
		return -2;
	int fd;
	if (memfd) {
		fd = memfd_create(spec + 6, 0);
	} else {
		char path[128];
		const char *dir = getenv("KREPLAY_FILEDIR");
		snprintf(path, sizeof path, "%s/kreplay-%d-%s", dir && *dir ? dir : "/tmp", getpid(), spec + 5);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0)
		return -2;
	/* large enough that no access in the reservation is beyond EOF (sparse) */
	if (ftruncate(fd, 2 * REGION)) {
		close(fd);
		return -2;
	}
	snprintf(objs[nobj].name, sizeof objs[nobj].name, "%s", spec);
	objs[nobj++].fd = fd;
	return fd;
}

/* ---------------------------------------------------------------- userfaultfd + monitor */

#define MAXUFD 64
static pthread_mutex_t fdlock = PTHREAD_MUTEX_INITIALIZER;
static int ufd[MAXUFD]; /* logical fd -> real fd, -1 */
static volatile int mon_stop;
static char msgtext[1 << 16];
static size_t msglen;

static void msg_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg_add(const char *fmt, ...)
{
	if (msglen > sizeof msgtext - 128)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (msglen)
		msgtext[msglen++] = ',';
	int n = vsnprintf(msgtext + msglen, sizeof msgtext - msglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		msglen += n;
}
static long relpage(u64 a) { return (long)(((int64_t)a - (int64_t)(uintptr_t)BASE) / (int64_t)PS); }

static void *monitor(void *arg)
{
	(void)arg;
	while (!mon_stop) {
		int busy = 0;
		pthread_mutex_lock(&fdlock);
		for (int i = 0; i < MAXUFD; i++) {
			if (ufd[i] < 0)
				continue;
			struct pollfd p = {ufd[i], POLLIN, 0};
			if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
				continue;
			struct uffd_msg m;
			if (read(ufd[i], &m, sizeof m) != sizeof m)
				continue;
			busy = 1;
			if (m.event == UFFD_EVENT_PAGEFAULT) {
				u64 a = m.arg.pagefault.address;
				msg_add("pf:%ld:%s%s", relpage(a), m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "w" : "r",
					m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP ? "p" : "");
				if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
					struct uffdio_writeprotect w = {.range = {a & ~(PS - 1), PS}, .mode = 0};
					for (int t = 0; t < 1000; t++) {
						if (!ioctl(ufd[i], UFFDIO_WRITEPROTECT, &w) || errno != EAGAIN)
							break;
						usleep(100);
					}
				} else {
					/* a missing/minor fault: wake it anyway (the fuzzer does not register MISSING) */
					struct uffdio_range r = {a & ~(PS - 1), PS};
					ioctl(ufd[i], UFFDIO_WAKE, &r);
				}
			} else if (m.event == UFFD_EVENT_REMAP) {
				msg_add("remap:%ld:%ld:%ld", relpage(m.arg.remap.from), relpage(m.arg.remap.to),
					(long)(m.arg.remap.len / PS));
			} else if (m.event == UFFD_EVENT_REMOVE) {
				msg_add("remove:%ld:%ld", relpage(m.arg.remove.start), relpage(m.arg.remove.end));
			} else if (m.event == UFFD_EVENT_UNMAP) {
				msg_add("unmap:%ld:%ld", relpage(m.arg.remove.start), relpage(m.arg.remove.end));
			} else if (m.event == UFFD_EVENT_FORK) {
				msg_add("fork");
				close((int)m.arg.fork.ufd);
			} else {
				msg_add("event%d", m.event);
			}
		}
		pthread_mutex_unlock(&fdlock);
		if (!busy)
			usleep(50);
	}
	return NULL;
}

/* ---------------------------------------------------------------- accesses */

static sigjmp_buf jb;
static volatile sig_atomic_t in_access;
static void on_fault(int sig)
{
	if (in_access)
		siglongjmp(jb, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}
static int kwpipe[2] = {-1, -1}, pipefd[2] = {-1, -1};

/* returns 0 or the signal number */
static int access_page(char *p, int write)
{
	int sig = sigsetjmp(jb, 1);
	if (sig) {
		in_access = 0;
		return sig;
	}
	in_access = 1;
	if (write)
		*(volatile char *)p = 1;
	else
		(void)*(volatile char *)p;
	in_access = 0;
	return 0;
}

/* ---------------------------------------------------------------- commands */

static struct page_region *vec;
static size_t vec_cap;

static void cmd_pagemap_scan(char **a, int n)
{
	long long s, e;
	u64 flags, inv, mask, anyof, retm, veclen, maxp, size = sizeof(struct pm_scan_arg), vecnull = 0;
	if (n < 10 || parse_num(a[1], &s) || parse_num(a[2], &e) || parse_u64(a[3], &flags) || parse_u64(a[4], &inv) ||
	    parse_u64(a[5], &mask) || parse_u64(a[6], &anyof) || parse_u64(a[7], &retm) || parse_u64(a[8], &veclen) ||
	    parse_u64(a[9], &maxp) || (n > 10 && parse_u64(a[10], &size)) || (n > 11 && parse_u64(a[11], &vecnull))) {
		out("bad args");
		return;
	}
	size_t cap = veclen > 65536 ? 65536 : veclen;
	if (cap + 1 > vec_cap) {
		free(vec);
		vec_cap = cap + 1;
		vec = malloc(vec_cap * sizeof *vec);
	}
	memset(vec, 0xff, vec_cap * sizeof *vec);
	struct {
		struct pm_scan_arg a;
		char pad[64];
	} arg;
	memset(&arg, 0, sizeof arg);
	arg.a = (struct pm_scan_arg){
		.size = size, .flags = flags, .start = (u64)(uintptr_t)BASE + s, .end = (u64)(uintptr_t)BASE + e,
		.walk_end = WALK_SENTINEL, .vec = vecnull ? 0 : (u64)(uintptr_t)vec, .vec_len = veclen,
		.max_pages = maxp, .category_inverted = inv, .category_mask = mask,
		.category_anyof_mask = anyof, .return_mask = retm};
	long r = ioctl(pagemap_fd(), PAGEMAP_SCAN, &arg);
	int err = errno;
	out_ret(r, err);
	out(" we=");
	if (arg.a.walk_end == WALK_SENTINEL)
		out("-");
	else
		out_addr(arg.a.walk_end);
	out(" r=");
	size_t nreg = 0;
	if (r > 0)
		nreg = r;
	else
		while (nreg < cap && vec[nreg].start != ~0ULL)
			nreg++;
	for (size_t i = 0; i < nreg && i < cap; i++) {
		out(i ? "," : "");
		out_addr(vec[i].start);
		out("-");
		out_addr(vec[i].end);
		out(":%llx", (unsigned long long)vec[i].categories);
	}
}

static void cmd_pagemap(char **a, int n)
{
	long long off, np;
	if (n < 3 || parse_num(a[1], &off) || parse_num(a[2], &np) || np <= 0 || np > 1 << 20 || off % PS) {
		out("bad args");
		return;
	}
	u64 *e = calloc(np, 8);
	ssize_t r = pread(pagemap_fd(), e, np * 8, ((uintptr_t)BASE + off) / PS * 8);
	if (r != np * 8) {
		out_ret(-1, errno);
		free(e);
		return;
	}
	static const struct {
		int bit;
		char c;
	} b[] = {{63, 'P'}, {62, 'S'}, {61, 'F'}, {58, 'G'}, {57, 'U'}, {56, 'X'}, {55, 'D'}};
	out("ok ");
	long s = 0;
	for (long i = 1; i <= np; i++) {
		if (i < np && (e[i] & PM_FLAG_MASK) == (e[s] & PM_FLAG_MASK))
			continue;
		out("%s%ld+%ld:", s ? "," : "", (long)(off / (long long)PS) + s, i - s);
		int any = 0;
		for (unsigned k = 0; k < sizeof b / sizeof b[0]; k++)
			if (e[s] & (1ULL << b[k].bit)) {
				out("%c", b[k].c);
				any = 1;
			}
		if (!any)
			out("-");
		s = i;
	}
	free(e);
}

static void cmd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int first = 1;
	uintptr_t lo = (uintptr_t)BASE, hi = lo + REGION;
	out("ok ");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long s, e;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || e <= lo || s >= hi)
			continue;
		out("%s%ld-%ld:%s", first ? "" : ",", (long)(s - lo) / (long)PS, (long)(e - lo) / (long)PS, perms);
		first = 0;
	}
	if (f)
		fclose(f);
}

#define MAXCHILD 16
static pid_t children[MAXCHILD];
static int nchildren;

static int reap_children(void)
{
	int n = nchildren;
	for (int i = 0; i < nchildren; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	nchildren = 0;
	return n;
}

static int real_ufd(long long fd)
{
	return fd >= 0 && fd < MAXUFD ? ufd[fd] : -1;
}

static void run_cmd(char **a, int n)
{
	const char *c = a[0];
	long long x, y, z, w;
	long fl;
	int prot, e;
	long r;
#define BAD()                     \
	do {                      \
		out("bad args"); \
		return;           \
	} while (0)
#define P(i) (BASE + (i))
	if (!strcmp(c, "mmap")) {
		if (n < 5 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_prot(a[3], &prot) ||
		    parse_flags(a[4], mmap_flags, &fl))
			BAD();
		int fd = -1;
		long long foff = 0;
		if (n > 5 && strcmp(a[5], "anon")) {
			fd = backing_fd(a[5]);
			if (fd == -2)
				BAD();
		}
		if (n > 6 && parse_num(a[6], &foff))
			BAD();
		void *m = mmap(P(x), y, prot, fl, fd, foff);
		e = errno;
		if (m == MAP_FAILED)
			out_ret(-1, e);
		else {
			out("ok ");
			out_addr((u64)(uintptr_t)m);
		}
	} else if (!strcmp(c, "munmap")) {
		if (n < 3 || parse_num(a[1], &x) || parse_num(a[2], &y))
			BAD();
		r = munmap(P(x), y);
		out_ret(r, errno);
	} else if (!strcmp(c, "mprotect")) {
		if (n < 4 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_prot(a[3], &prot))
			BAD();
		r = mprotect(P(x), y, prot);
		out_ret(r, errno);
	} else if (!strcmp(c, "madvise")) {
		if (n < 4 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_flags(a[3], advices, &fl))
			BAD();
		r = madvise(P(x), y, fl);
		out_ret(r, errno);
	} else if (!strcmp(c, "mremap")) {
		if (n < 5 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_num(a[3], &z) ||
		    parse_flags(a[4], mremap_flags, &fl) || (n > 5 && parse_num(a[5], &w)))
			BAD();
		void *m = mremap(P(x), y, z, fl, n > 5 ? P(w) : NULL);
		e = errno;
		if (m == MAP_FAILED)
			out_ret(-1, e);
		else {
			out("ok ");
			out_addr((u64)(uintptr_t)m);
		}
	} else if (!strcmp(c, "write") || !strcmp(c, "read")) {
		if (n < 2 || parse_num(a[1], &x))
			BAD();
		int sig = access_page(P(x), c[0] == 'w');
		if (sig)
			out("sig %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		else
			out("ok");
	} else if (!strcmp(c, "kwrite") || !strcmp(c, "kread")) {
		if (n < 2 || parse_num(a[1], &x))
			BAD();
		if (c[1] == 'w') {
			/* A byte that a failed copy_to_user (EFAULT) leaves in the pipe is used next time. */
			int avail = 0;
			if (ioctl(kwpipe[0], FIONREAD, &avail) == 0 && avail == 0 && write(kwpipe[1], "\1", 1) != 1)
				avail = -1;
			r = read(kwpipe[0], P(x), 1);
		} else {
			r = write(pipefd[1], P(x), 1);
			if (r == 1) {
				char tmp;
				if (read(pipefd[0], &tmp, 1) != 1)
					r = -1;
			}
		}
		e = errno;
		if (r < 0)
			out_ret(-1, e);
		else
			out("ok");
	} else if (!strcmp(c, "userfaultfd")) {
		if (n < 3 || parse_num(a[1], &x) || x < 0 || x >= MAXUFD || parse_flags(a[2], uffd_flags, &fl))
			BAD();
		int fd = syscall(SYS_userfaultfd, (int)fl);
		e = errno;
		if (fd < 0)
			out_ret(-1, e);
		else {
			/* userfaultfd_poll() answers EPOLLERR on a blocking fd: the monitor needs O_NONBLOCK
			 * (it only changes how read() waits, which the trace never sees). */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			pthread_mutex_lock(&fdlock);
			if (ufd[x] >= 0)
				close(ufd[x]);
			ufd[x] = fd;
			pthread_mutex_unlock(&fdlock);
			out("ok %lld", x);
		}
	} else if (!strcmp(c, "uffdio_api")) {
		u64 api, feat;
		if (n < 4 || parse_num(a[1], &x) || parse_u64(a[2], &api) || parse_u64(a[3], &feat))
			BAD();
		struct uffdio_api ap = {.api = api, .features = feat};
		r = ioctl(real_ufd(x), UFFDIO_API, &ap);
		out_ret(r, errno);
	} else if (!strcmp(c, "uffdio_register")) {
		u64 mode;
		if (n < 5 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_num(a[3], &z) || parse_u64(a[4], &mode))
			BAD();
		struct uffdio_register rg = {.range = {(u64)(uintptr_t)P(y), z}, .mode = mode};
		r = ioctl(real_ufd(x), UFFDIO_REGISTER, &rg);
		out_ret(r, errno);
	} else if (!strcmp(c, "uffdio_unregister")) {
		if (n < 4 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_num(a[3], &z))
			BAD();
		struct uffdio_range rg = {(u64)(uintptr_t)P(y), z};
		r = ioctl(real_ufd(x), UFFDIO_UNREGISTER, &rg);
		out_ret(r, errno);
	} else if (!strcmp(c, "uffdio_writeprotect")) {
		u64 mode;
		if (n < 5 || parse_num(a[1], &x) || parse_num(a[2], &y) || parse_num(a[3], &z) || parse_u64(a[4], &mode))
			BAD();
		struct uffdio_writeprotect wp = {.range = {(u64)(uintptr_t)P(y), z}, .mode = mode};
		r = ioctl(real_ufd(x), UFFDIO_WRITEPROTECT, &wp);
		out_ret(r, errno);
	} else if (!strcmp(c, "close")) {
		if (n < 2 || parse_num(a[1], &x))
			BAD();
		int fd = real_ufd(x);
		if (fd < 0) {
			out_ret(-1, EBADF);
			return;
		}
		pthread_mutex_lock(&fdlock);
		r = close(fd);
		e = errno;
		ufd[x] = -1;
		pthread_mutex_unlock(&fdlock);
		out_ret(r, e);
	} else if (!strcmp(c, "pagemap_scan")) {
		cmd_pagemap_scan(a, n);
	} else if (!strcmp(c, "pagemap")) {
		cmd_pagemap(a, n);
	} else if (!strcmp(c, "maps")) {
		cmd_maps();
	} else if (!strcmp(c, "messages")) {
		pthread_mutex_lock(&fdlock);
		out("ok %.*s", (int)msglen, msgtext);
		msglen = 0;
		pthread_mutex_unlock(&fdlock);
	} else if (!strcmp(c, "pwrite")) {
		if (n < 4 || parse_num(a[2], &x) || parse_num(a[3], &y) || y < 0 || y > (long long)REGION)
			BAD();
		int fd = backing_fd(a[1]);
		if (fd == -2)
			BAD();
		char *buf = calloc(1, y ? y : 1);
		memset(buf, 1, y);
		r = pwrite(fd, buf, y, x);
		e = errno;
		free(buf);
		out_ret(r, e);
	} else if (!strcmp(c, "clear_refs")) {
		if (n < 2)
			BAD();
		int fd = open("/proc/self/clear_refs", O_WRONLY);
		r = fd < 0 ? -1 : write(fd, a[1], strlen(a[1]));
		e = errno;
		if (fd >= 0)
			close(fd);
		out_ret(r, e);
	} else if (!strcmp(c, "fork")) {
		if (nchildren == MAXCHILD)
			BAD();
		int hold[2];
		if (pipe(hold))
			BAD();
		pid_t pid = fork();
		if (pid == 0) {
			/* only this thread exists in the child: wait for SIGKILL without touching memory */
			close(hold[1]);
			char ch;
			while (read(hold[0], &ch, 1) != 0)
				;
			_exit(0);
		}
		close(hold[0]);
		e = errno;
		if (pid < 0)
			out_ret(-1, e);
		else {
			children[nchildren++] = pid;
			out("ok %d", nchildren);
		}
	} else if (!strcmp(c, "reap")) {
		out("ok %d", reap_children());
	} else {
		out("bad command");
	}
#undef BAD
#undef P
}

/* ---------------------------------------------------------------- trace driver */

static void run_trace(char **lines, int nlines)
{
	for (int i = 0; i < MAXUFD; i++)
		ufd[i] = -1;
	void *m = mmap(BASE, REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != BASE) {
		out("! reserve failed: %s", errname(errno));
		out_end();
		_exit(3);
	}
	if (pipe(pipefd) || pipe(kwpipe)) {
		out("! pipe failed");
		out_end();
		_exit(3);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	pthread_t thr;
	pthread_create(&thr, NULL, monitor, NULL);
	for (int i = 0; i < nlines; i++) {
		char *a[24] = {0};
		int n = 0;
		for (char *save = NULL, *tok = strtok_r(lines[i], " \t", &save); tok && n < 24; tok = strtok_r(NULL, " \t", &save))
			a[n++] = tok;
		run_cmd(a, n);
		out_end();
	}
	reap_children();
	mon_stop = 1;
	pthread_join(thr, NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--base")) {
		printf("0x%lx %lu\n", (unsigned long)KREPLAY_BASE, (unsigned long)REGION);
		return 0;
	}
	int timeout = getenv("KREPLAY_TIMEOUT") ? atoi(getenv("KREPLAY_TIMEOUT")) : 20;
	char **lines = NULL;
	int nlines = 0, cap = 0, eof = 0;
	char *line = NULL;
	size_t lcap = 0;
	while (!eof) {
		ssize_t len = getline(&line, &lcap, stdin);
		int sep = 0;
		if (len < 0)
			eof = 1;
		else {
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			char *hash = strchr(line, '#');
			if (hash)
				*hash = 0;
			char *s = line;
			while (*s == ' ' || *s == '\t')
				s++;
			if (!strcmp(s, "---"))
				sep = 1;
			else if (*s) {
				if (nlines == cap) {
					cap = cap ? 2 * cap : 256;
					lines = realloc(lines, cap * sizeof *lines);
				}
				lines[nlines++] = strdup(s);
				continue;
			} else
				continue;
		}
		if (!sep && nlines == 0)
			break;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(timeout);
			run_trace(lines, nlines);
			_exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			printf("! died %s\n", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
		else if (WEXITSTATUS(st))
			printf("! exit %d\n", WEXITSTATUS(st));
		printf("---\n");
		fflush(stdout);
		for (int i = 0; i < nlines; i++)
			free(lines[i]);
		nlines = 0;
	}
	free(line);
	free(lines);
	return 0;
}
