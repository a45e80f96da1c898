/*
 * readahead_gate.c -- how far readahead may run, from its recent outcome.
 *
 * The kernel's swap readahead sizes its window by the hits of the last
 * one; this does the same for streams: a program whose streams break soon
 * after they are confirmed (a merge sort's short runs, a hash table's
 * probes that happen to be neighbours) wastes what is read ahead, and the
 * room for it comes from pages it would have used.  Pure: the caller keeps
 * the counts.
 */
#include "policy/policy.h"

struct ra_gate ra_gate(size_t ahead_max, size_t win_min, uint64_t used, uint64_t wasted)
{
    struct ra_gate g = { 2, ahead_max };
    uint64_t seen = used + wasted;
    if (seen < RA_GATE_EVIDENCE || used * 2 >= seen)
        return g;
    size_t small = win_min < ahead_max ? win_min : ahead_max;
    if (used * 4 >= seen) {
        g.confirm = 4;
        g.ahead = ahead_max / 4 > small ? ahead_max / 4 : small;
    } else {
        g.confirm = 8;
        g.ahead = small;
    }
    return g;
}
