/* sim_plot.h -- miss-ratio curves of simulator results, drawn by gnuplot. */
#ifndef VMEM_SIM_PLOT_H
#define VMEM_SIM_PLOT_H

#include "sim.h"

/* Is gnuplot on PATH? */
int sim_have_gnuplot(void);
/* Draws faults against frames, one line per policy, to a PNG.  0, or -1
 * with a message on stderr. */
int sim_plot(const struct sim_result *res, size_t n, const char *png, const char *title);

#endif
