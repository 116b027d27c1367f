/* cmd_resume.c — `bnnmc resume DIR` (continue an interrupted run from its checkpoints) and
 * `bnnmc extend DIR --draws K` (more draws after a finished run, no new warm-up). Both
 * parse the recorded `bnnmc sample` command again, in its working directory, so the run
 * they continue is the same run; the library makes the continued draws bitwise those of
 * one uninterrupted run. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "commands.h"
#include "rundir.h"
#include "run.h"
#include "sample_opts.h"
#include "util.h"

/* A kernel setting as config.json's "sampler" block recorded it (a kernel by name), NaN
 * where it did not. */
static double recorded_setting(void *ctx, const bnn_option *op)
{
    run_json *cfg = ctx;
    char key[96];
    snprintf(key, sizeof key, "sampler.%s", op->name);
    if (!run_json_has(cfg, key))
        return NAN;
    if (op->type == BNN_OPT_KERNEL)
        return bnn_kernel_index(bnn_kernel_find(run_json_str(cfg, key)));
    return run_json_num(cfg, key);
}

static const char resume_usage[] =
    "usage: bnnmc resume DIR [--threads T] [--quiet]\n"
    "\n"
    "Continues the run in DIR from its last checkpoints (DIR/checkpoint/), after a kill, a\n"
    "power loss, Ctrl-C or SIGTERM: the chains go on where they were saved, and the run\n"
    "folder is written as the run never interrupted would have written it (its draws\n"
    "bitwise). The run is parsed again from the command that started it, in the working\n"
    "directory it started in; its data files must not have changed (their sha256 is\n"
    "checked). Refused for a run that is complete (see 'bnnmc extend'). A run with\n"
    "--max-time goes on from the round it reached, with the time it had left: its first\n"
    "round's draws are bitwise those of the uninterrupted run, later rounds end by time.\n"
    "\n"
    "  --threads T             threads (default: as the run; results never depend on T)\n"
    "  --quiet                 no progress line\n";

static const char extend_usage[] =
    "usage: bnnmc extend DIR --draws K [--threads T] [--quiet]\n"
    "\n"
    "Adds K kept draws per chain to the finished run in DIR, with no new warm-up: each\n"
    "chain goes on from its final checkpoint. The draws are bitwise those of a run that\n"
    "asked for the longer length from the start (with its burn-in as a count), and\n"
    "summary, metrics and predictions are computed again over all of them.\n"
    "\n"
    "  --draws K               kept draws to add per chain (required)\n"
    "  --threads T             threads (default: as the run; results never depend on T)\n"
    "  --quiet                 no progress line\n";

/* Refuses when a data file's bytes are not those config.json recorded. */
static void check_data(run_json *cfg, const sample_opts *o, const char *C)
{
    const char *files[2] = {o->train, o->test}, *keys[2] = {"data.train.sha256",
                                                            "data.test.sha256"};
    for (int k = 0; k < 2; k++) {
        if (!files[k] || o->dataset)
            continue;
        const char *want = run_json_str(cfg, keys[k]);
        char hex[65];
        file_sha256(files[k], hex);
        if (cfg->err[0])
            die_usage(C, "%s", cfg->err);
        if (!hex[0])
            die_usage(C, "%s: cannot read the run's data file: %s", files[k], strerror(errno));
        if (strcmp(hex, want) != 0)
            die_usage(C, "%s: the data changed since the run started (sha256 %.12s..., "
                      "config.json recorded %.12s...): refusing to continue the run on other "
                      "data", files[k], hex, want);
    }
}

static int continue_run(int argc, char **argv, int extend)
{
    const char *C = extend ? "extend" : "resume";
    const char *usage = extend ? extend_usage : resume_usage;
    static const struct option longopts[] = {
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"draws", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    long threads = 0, draws = 0;
    int quiet = 0, c;
    optind = 1;
    while ((c = next_option(C, argc, argv, longopts)) != -1) {
        switch (c) {
        case 't': threads = parse_long(C, "--threads", optarg, 1, 1024); break;
        case 'q': quiet = 1; break;
        case 'd':
            if (!extend)
                die_usage(C, "--draws: only 'bnnmc extend' adds draws");
            draws = parse_long(C, "--draws", optarg, 1, 1000000000);
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: break;
        }
    }
    if (optind != argc - 1)
        die_usage(C, optind >= argc ? "DIR (the run folder) is required"
                                    : "one run folder, not '%s' too", argv[argc - 1]);
    if (extend && draws == 0)
        die_usage(C, "--draws K is required");
    char *dir = realpath(argv[optind], NULL);
    if (!dir)
        die_usage(C, "%s: %s", argv[optind], strerror(errno));
    run_json cfg;
    if (run_json_load(&cfg, dir, "config.json") != 0)
        die_usage(C, "%s: not a bnnmc run folder (%s)", argv[optind], cfg.err);
    /* a variational approximation has no chains to continue, and no checkpoints */
    if (run_json_has(&cfg, "method") && strcmp(run_json_str(&cfg, "method"), "sample") != 0)
        die_usage(C, "%s holds a variational approximation ('bnnmc variational'), not MCMC "
                  "chains: there is nothing to %s; run 'bnnmc variational' again instead",
                  argv[optind], C);
    const char *status = run_json_str(&cfg, "status");
    if (cfg.err[0])
        die_usage(C, "%s", cfg.err);
    int complete = strcmp(status, "complete") == 0;
    if (!extend && complete)
        die_usage(C, "%s: the run is already complete ('bnnmc extend %s --draws K' adds draws)",
                  argv[optind], argv[optind]);
    if (extend && !complete)
        die_usage(C, "%s: the run is not complete (status '%.60s'): 'bnnmc resume %s' first",
                  argv[optind], status, argv[optind]);

    char *cwd, **cargv, *block;
    int cargc;
    ckpt_load_command(dir, &cwd, &cargc, &cargv, &block);
    if (chdir(cwd) != 0)
        die_usage(C, "%s: cannot enter the run's working directory %s: %s", dir, cwd,
                  strerror(errno));
    sample_opts o;
    sample_opts_defaults(&o);
    if (cargc < 1 || strcmp(cargv[0], "sample") != 0 ||
        sample_opts_parse(&o, cargc, cargv, "sample", "") != 0)
        die_usage(C, "%s/checkpoint/command: not a 'bnnmc sample' command", dir);
    if (o.max_time > 0 && extend)
        die_usage(C, "%s: a run with --max-time is extended by resuming it with a longer "
                  "--max-time, not built yet; 'bnnmc sample --adapt-from %s' starts a run tuned "
                  "as it", argv[optind], argv[optind]);
    check_data(&cfg, &o, C);
    /* the coordinates the run's chains moved in, whatever today's default (a run made
     * before --center or --axes existed moved in the model's own) */
    o.center = run_json_true(&cfg, "sampler.center");
    o.axes = run_json_true(&cfg, "sampler.axes");
    o.axes_given = 1;   /* as recorded, whatever the task's default */
    /* the precision of the density the chains' cached values came from */
    static const char *const precisions[] = {"double", "single", NULL};
    o.precision = run_json_has(&cfg, "sampler.precision") &&
                  run_json_choice(&cfg, "sampler.precision", precisions) == 1;
    o.precision_given = 1;
    /* and the kernel's settings (run until converged: the tree depth) as they were */
    const char *bad = sample_opts_recorded(&o, recorded_setting, &cfg);
    if (cfg.err[0])
        die_usage(C, "%s", cfg.err);
    if (bad)
        die_usage(C, "%s/config.json: sampler.%s is outside the setting's range (the file is "
                  "damaged)", dir, bad);
    run_json_free(&cfg);

    /* the folder may have moved since: it is where it is now */
    o.out = dir;
    o.resume = extend ? RESUME_EXTEND : RESUME_INTERRUPTED;
    if (threads)
        o.threads = threads;
    o.quiet = o.quiet || quiet;
    char **nargv = NULL;
    char nsamples[32], nburn[32];
    if (extend) {
        /* the same run, asking for K more kept draws from the start: burn-in as a count,
         * as the run had it */
        long burn = sample_opts_burn_count(&o);
        if (draws > (1000000000L - o.samples) / o.thin)
            die_usage(C, "--draws %ld: the run would pass --samples' limit of 10^9 iterations",
                      draws);
        long samples = o.samples + draws * o.thin;
        snprintf(nsamples, sizeof nsamples, "%ld", samples);
        snprintf(nburn, sizeof nburn, "%ld", burn);
        nargv = malloc(((size_t)cargc + 5) * sizeof *nargv);
        if (!nargv)
            die_runtime("out of memory");
        memcpy(nargv, cargv, (size_t)cargc * sizeof *nargv);
        nargv[cargc] = "--samples";
        nargv[cargc + 1] = nsamples;
        nargv[cargc + 2] = "--burn-in";
        nargv[cargc + 3] = nburn;
        nargv[cargc + 4] = NULL;
        o.samples = samples;
        o.burn_in = (double)burn;
        o.argc = cargc + 4;
        o.argv = nargv;
    } else {
        o.argc = cargc;
        o.argv = cargv;
    }
    int code = run_sample_command(&o);
    free(nargv);
    free(cargv);
    free(block);
    free(dir);
    return code;
}

int cmd_resume(int argc, char **argv)
{
    return continue_run(argc, argv, 0);
}

int cmd_extend(int argc, char **argv)
{
    return continue_run(argc, argv, 1);
}
