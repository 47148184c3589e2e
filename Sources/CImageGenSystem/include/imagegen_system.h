// Process-level hardening calls that Swift cannot make directly (prctl is variadic).
#ifndef IMAGEGEN_SYSTEM_H
#define IMAGEGEN_SYSTEM_H

/// Marks the calling process not dumpable (Linux: prctl(PR_SET_DUMPABLE, 0)): no core files, and
/// its /proc files (environ, mem, maps) are owned by root, so other processes of the same user
/// cannot read its memory or environment. Returns 0, or an errno value. Elsewhere returns 0 and does nothing.
int imagegen_set_not_dumpable(void);

/// 1 when the calling process is dumpable, 0 when not, -1 when unknown.
int imagegen_is_dumpable(void);

#endif
