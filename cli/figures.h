/* figures.h — drawing a run's figures (figures.c), for `bnnmc plot` and `bnnmc demo`. */
#ifndef BNNMC_CLI_FIGURES_H
#define BNNMC_CLI_FIGURES_H

/* Draws the figures of the run in dir into dir/plots/ (params: comma-separated names of
 * summary.csv's rows, or NULL for the worst few by R-hat); 0 or an exit status, with the
 * message already printed. */
int plot_run(const char *dir, const char *params);

#endif
