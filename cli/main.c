/* main.c — the bnnmc command line: the table of commands, from which both the dispatch and
 * `bnnmc --help` come.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or input error. Results go to stdout
 * or the run folder; progress, notes and errors go to stderr. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ranks.h"
#include "util.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;         /* what follows the name, for the usage */
    const char *what;         /* one line */
} command;

static const command commands[] = {
    {"sample", cmd_sample, "(--train FILE [--test FILE] | --dataset NAME) --out DIR [options]",
     "draw posterior samples into a run folder"},
    {"variational", cmd_variational, "(--train FILE | --dataset NAME) --out DIR [options]",
     "a variational approximation (ADVI) into a run folder"},
    {"resume", cmd_resume, "DIR", "continue an interrupted run from its checkpoints"},
    {"extend", cmd_extend, "DIR --draws K", "more draws after a finished run, no new warm-up"},
    {"summary", cmd_summary, "DIR", "diagnostics and metrics of a finished (or partial) run"},
    {"predict", cmd_predict, "DIR --data FILE", "predictions with credible intervals for new rows"},
    {"loo", cmd_loo, "DIR", "PSIS-LOO and WAIC of a run (as R's loo computes them)"},
    {"compare", cmd_compare, "DIR DIR...", "compare runs on the same data by PSIS-LOO (loo_compare)"},
    {"diagnose", cmd_diagnose, "FILE.csv...", "diagnostics of any CmdStan-format draws (Stan's too)"},
    {"demo", cmd_demo, "", "the study's network on a built-in data set, end to end"},
    {"plot", cmd_plot, "DIR", "figures into DIR/plots/ (PNG and SVG, drawn by gnuplot)"},
    {"datasets", cmd_datasets, "", "list the built-in data sets"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0], ARGS_WIDTH = 18 };

static void print_usage(void)
{
    printf("bnnmc " BNNMC_VERSION " - Bayesian linear, logistic and neural-network models by MCMC\n"
           "\nusage: bnnmc COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const command *c = &commands[i];
        if (strlen(c->args) > ARGS_WIDTH)   /* a long one: the description on a line of its own */
            printf("  %-11s %s\n  %-11s %-*s %s\n", c->name, c->args, "", ARGS_WIDTH, "", c->what);
        else
            printf("  %-11s %-*s %s\n", c->name, ARGS_WIDTH, c->args, c->what);
    }
    printf("\n'bnnmc COMMAND --help' describes a command. Exit status: 0 success, 1 runtime "
           "failure,\n2 usage or input error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die_usage(NULL, "no command given");
    const char *name = argv[1];
    /* under mpirun: rank 0 goes on, the others wait for its run (cli/ranks.c) */
    ranks_init(&argc, &argv, name);
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage();
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        puts("bnnmc " BNNMC_VERSION);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    die_usage(NULL, "unknown command '%s'", name);
}
