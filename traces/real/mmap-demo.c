/*
 * mmap-demo: a small deterministic program for the valgrind lackey fixture
 * (traces/real/lackey-mmap-demo.txt.gz). It exercises the address-space operations the lackey
 * importer turns into trace ops: mmap (private anon, shared anon), stores and loads over several
 * pages (one store crossing a page boundary), mprotect, madvise(MADV_DONTNEED), munmap, mremap
 * (growing, may move), brk (through sbrk), and one deliberately failing call (munmap of an
 * unaligned address: EINVAL). Build: gcc -O1 -o mmap-demo mmap-demo.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static volatile unsigned long sink;

int main(void) {
  /* 8 private anonymous pages; write pages 0, 2, 4 and 6. */
  char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  for (int i = 0; i < 8; i += 2) p[i * PAGE + 16] = (char)i;
  /* A 4-byte store crossing the boundary between pages 1 and 2. */
  uint32_t v = 0x11223344u;
  memcpy(p + 2 * PAGE - 2, &v, sizeof v);
  /* Pages 0-3 read-only; read them back. */
  if (mprotect(p, 4 * PAGE, PROT_READ) != 0) return 2;
  for (int i = 0; i < 4; i++) sink += (unsigned char)p[i * PAGE + 16];
  /* Drop page 4's contents, then unmap pages 6-7. */
  if (madvise(p + 4 * PAGE, PAGE, MADV_DONTNEED) != 0) return 3;
  if (munmap(p + 6 * PAGE, 2 * PAGE) != 0) return 4;
  /* A failing call: unaligned munmap (EINVAL). */
  if (munmap(p + 1, PAGE) == 0) return 5;
  /* Grow pages 4-5 to 16 pages (may move); write its first and last page. */
  char *q = mremap(p + 4 * PAGE, 2 * PAGE, 16 * PAGE, MREMAP_MAYMOVE);
  if (q == MAP_FAILED) return 6;
  q[0] = 1;
  q[15 * PAGE] = 2;
  /* A shared anonymous page. */
  char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 7;
  s[100] = 42;
  /* Heap through brk: grow by 3 pages, write each, shrink back. */
  char *h = sbrk(3 * PAGE);
  if (h == (void *)-1) return 8;
  for (int i = 0; i < 3; i++) h[i * PAGE] = (char)i;
  sbrk(-(long)(3 * PAGE));
  munmap(s, PAGE);
  munmap(p, 4 * PAGE);
  munmap(q, 16 * PAGE);
  return (int)(sink & 0) ;
}
