-- History beyond PTE changes: keyframes of every lane's page tables (for time travel), VMA changes and
-- userfaultfd messages.

-- A keyframe: the complete page-table state of one lane taken between two events. The state at event
-- `seq` (after applying it) is the keyframe with the largest seq <= seq + 1, plus the pte_change rows
-- with keyframe.seq <= pte_change.seq <= seq applied in order (src/store/time-travel.ts).
CREATE TABLE keyframe (
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- the state is the one before pte_change row `seq` of this lane (after all rows with a smaller seq)
  seq     INTEGER NOT NULL,
  -- trace position of the last record executed before the keyframe was taken
  pos     INTEGER NOT NULL,
  -- number of keyframe_leaf rows (2 MiB slots with a PMD entry or a PTE table)
  leaves  INTEGER NOT NULL,
  PRIMARY KEY (lane_id, seq)
) STRICT, WITHOUT ROWID;

-- One 2 MiB slot of a keyframe: its PMD entry and, when it points to a PTE table, the 512 PTEs.
CREATE TABLE keyframe_leaf (
  -- keyframe.lane_id
  lane_id INTEGER NOT NULL,
  -- keyframe.seq
  seq     INTEGER NOT NULL,
  -- process
  pid     INTEGER NOT NULL,
  -- slot number: the first page of the slot is slot * 512
  slot    INTEGER NOT NULL,
  -- PMD state word (bit 15 set: a PTE table; otherwise a huge entry in the PTE encoding)
  pmd     INTEGER NOT NULL,
  -- the 512 PTE state words, run-length encoded: pairs of little-endian uint16 (count, state) in page
  -- order, counts adding up to 512 (a table of one state is 4 bytes); NULL when the PMD is not a table.
  -- Schema version 1 stored the 512 words as they are (1024 bytes).
  ptes    BLOB,
  PRIMARY KEY (lane_id, seq, pid, slot),
  FOREIGN KEY (lane_id, seq) REFERENCES keyframe(lane_id, seq)
) STRICT, WITHOUT ROWID;

-- VMAs that appeared or disappeared with an op (mmap, munmap, mprotect splits and merges, mremap,
-- madvise, brk, fork, exit, uffd registration): one row per VMA added or removed.
CREATE TABLE vma_change (
  -- insertion order (rowid)
  change_id INTEGER PRIMARY KEY,
  -- lane.lane_id
  lane_id   INTEGER NOT NULL REFERENCES lane(lane_id),
  -- trace position of the op
  pos       INTEGER NOT NULL,
  -- process
  pid       INTEGER NOT NULL,
  -- 'add' or 'remove'
  change    TEXT NOT NULL CHECK (change IN ('add', 'remove')),
  -- first page number of the VMA
  start_vpn INTEGER NOT NULL,
  -- page number after the VMA's last page (exclusive)
  end_vpn   INTEGER NOT NULL,
  -- vm_flags as short names: rd wr ex sh (shared) mw (VM_MAYWRITE) uw (VM_UFFD_WP) sd (VM_SOFTDIRTY) hg (VM_HUGEPAGE) ht (hugetlb) ...
  flags     TEXT NOT NULL,
  -- backing: 'anon', '[heap]', 'file:NAME' or 'shmem:NAME'
  backing   TEXT NOT NULL,
  -- id of the userfaultfd context the VMA is registered with, NULL when none
  uffd_ctx  INTEGER
) STRICT;

-- Every message queued on a userfaultfd (page faults and non-cooperative events).
CREATE TABLE uffd_msg (
  -- insertion order (rowid)
  msg_id  INTEGER PRIMARY KEY,
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- trace position of the access or op that raised it
  pos     INTEGER NOT NULL,
  -- process that owns the userfaultfd
  pid     INTEGER NOT NULL,
  -- userfaultfd context id
  ctx     INTEGER NOT NULL,
  -- UFFD_EVENT_*: 18 PAGEFAULT, 19 FORK, 20 REMAP, 21 REMOVE, 22 UNMAP
  event   INTEGER NOT NULL,
  -- PAGEFAULT: UFFD_PAGEFAULT_FLAG_* (1 WRITE, 2 WP, 4 MINOR); others 0
  flags   INTEGER NOT NULL,
  -- PAGEFAULT: faulting page; REMAP: from; REMOVE/UNMAP: start page
  vpn     INTEGER NOT NULL,
  -- REMAP: to; REMOVE/UNMAP: end page; FORK: child pid; PAGEFAULT: 0
  vpn2    INTEGER NOT NULL,
  -- REMAP: len, the length the event reports in pages (the syscall's old_len; from v6.16 what moved of it); others 0.
  -- Schema versions 1 and 2 do not have this column
  pages   INTEGER NOT NULL,
  -- thread that faulted (PAGEFAULT)
  tid     INTEGER NOT NULL,
  -- trace time in ns, NULL when the trace has no time
  time_ns REAL
) STRICT;
