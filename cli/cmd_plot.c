/* cmd_plot.c — `bnnmc plot DIR`: the figures of a run into DIR/plots/ (figures.c). */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "figures.h"
#include "util.h"

static const char plot_usage[] =
    "usage: bnnmc plot DIR [--params NAME,NAME,...]\n"
    "\n"
    "Draws the figures of a run into DIR/plots/, each as PNG and SVG:\n"
    "  trace        one panel per parameter, every chain in its own colour\n"
    "  posterior    histograms of the same parameters, chains overlaid\n"
    "  predictions  regression: observed values, posterior mean and 95% predictive band in\n"
    "               row order, train and test; classification: reliability diagram and\n"
    "               accuracy per class\n"
    "  rhat         R-hat and bulk ESS over parameters and over test predictions, with the\n"
    "               1.01 and 100-per-chain lines\n"
    "--params chooses the parameters (names as in summary.csv; default: the worst few by\n"
    "R-hat, and tau2). The plotted numbers are in DIR/plots/data/, the gnuplot scripts beside\n"
    "the figures. Needs gnuplot (Debian: apt-get install gnuplot-nox).\n";

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {{"params", required_argument, 0, 'p'},
                                              {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *params = NULL;
    int c;
    optind = 1;
    while ((c = next_option("plot", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'p': params = optarg; break;
        case 'h': fputs(plot_usage, stdout); return 0;
        }
    }
    if (optind + 1 != argc)
        die_usage("plot", optind == argc ? "the run folder DIR is required" : "give one run folder");
    int rc = plot_run(argv[optind], params);
    if (rc == 0)
        fprintf(stderr, "bnnmc plot: trace, posterior, predictions and rhat (.png, .svg) in %s/plots/\n",
                argv[optind]);
    return rc;
}
