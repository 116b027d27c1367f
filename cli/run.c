/* run.c — the sampling pipeline of `bnnmc sample` and `bnnmc demo`: data, model, starting
 * points, chains, predictions; the run folder is written as the run goes (rundir.c). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "init.h"
#include "memory.h"
#include "ranks.h"
#include "run.h"
#include "rundir.h"
#include "util.h"

/* Loads train (and test) and settles the task; exits 2 naming the place on bad input. */
void run_load_data(sample_opts *o, bnn_table **train, bnn_table **test, int *n_classes)
{
    bnn_error err = {0};
    bnn_status st;
    *test = NULL;
    if (o->dataset) {
        st = bnn_dataset_make(o->dataset, 1, train, test, &err);
    } else {
        st = bnn_table_read(train, o->train, o->target_col, &err);
        if (!st && o->test) {
            st = bnn_table_read(test, o->test, o->target_col, &err);
            if (!st)
                st = bnn_table_check_inputs(*test, *train, &err);
        }
    }
    if (st)
        die_input(&err);
    *n_classes = 0;
    if (o->task == BNN_TASK_AUTO) {
        o->task = bnn_table_infer_task(*train, n_classes);
        if (!o->quiet)
            fprintf(stderr, "bnnmc: task %s inferred from the targets of %s (--task sets it)\n",
                    o->task == BNN_TASK_CLASSIFICATION ? "classification" : "regression",
                    (*train)->source);
    }
    if (o->task == BNN_TASK_CLASSIFICATION) {
        *n_classes = 0;
        st = bnn_table_check_classes(*train, n_classes, &err);
        if (!st && *test)
            st = bnn_table_check_classes(*test, n_classes, &err);
        if (st)
            die_status(st, &err);
    }
}

void run_build_spec(const sample_opts *o, size_t p, int n_classes, bnn_model_spec *spec)
{
    bnn_model_spec_study(spec, o->nn, (bnn_task)o->task, (int)p, n_classes);
    if (o->nn) {
        spec->n_hidden = o->n_hidden;
        memcpy(spec->hidden, o->hidden, sizeof spec->hidden);
        spec->hidden_act = (bnn_activation)o->activation;
    }
    if (o->task == BNN_TASK_REGRESSION && o->output >= 0)
        spec->output_act = (bnn_activation)o->output;
    /* classification: --output sigmoid is the study's softmax of sigmoid outputs, identity
     * the standard softmax of the raw outputs; --preset study takes the study's for its
     * network (its linear model's softmax is of the raw outputs) */
    int study_output = o->output < 0 && o->preset == PRESET_STUDY && o->nn;
    if (o->task == BNN_TASK_CLASSIFICATION)
        spec->output_act = o->output == BNN_ACT_SIGMOID || study_output ? BNN_ACT_SIGMOID
                                                                        : BNN_ACT_SOFTMAX;
    spec->prior_var = o->prior_var;
    for (int l = 0; l < o->n_prior_layers; l++)
        spec->prior_var_layer[l] = o->prior_var_layer[l];
    spec->nu1 = o->nu1;
    spec->nu2 = o->nu2;
    spec->center = o->center > 0;
    spec->axes = o->axes > 0;   /* only where given (or recorded): sample_opts.c */
    spec->float32 = o->precision > 0;
}

/* Starting points, chains x dim: from --init (constrained values, tau2 -> eta) or the
 * study's distribution with a seed per chain. */
double *run_make_init(const sample_opts *o, const bnn_model *m, const bnn_density *d)
{
    size_t dim = d->dim, M = (size_t)o->chains;
    double *init = calloc(M * dim, sizeof *init), *work = calloc(d->work_len + 1, sizeof *work);
    if (!init || !work)
        die_runtime("out of memory");
    if (o->init) {
        bnn_error err = {0};
        if (read_init_file(o->init, m, M, init, &err) != BNN_OK)
            die_input(&err);
    } else {
        for (size_t c = 0; c < M; c++)
            if (bnn_model_init(m, bnn_chain_seed(o->seed, (int)c, 2), init + c * dim, work) != BNN_OK)
                die_runtime("out of memory drawing starting points");
    }
    free(work);
    return init;
}

/* ------------------------------------------------------------ progress and Ctrl-C */

/* The command line's one piece of global state: a signal handler can reach nothing else.
 * Set by Ctrl-C or SIGTERM; bnn_run reads it and stops every chain. */
static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* What run-until-converged learnt at its last check, for the progress line. */
typedef struct {
    const bnn_model *m;
    const bnn_table *t;       /* the rows whose predictions must converge */
    int has_y;
    uint64_t seed;
    int threads, quiet;
    double target_rhat, target_ess;
    double rhat, ess;         /* at the last check (NaN before the first) */
    size_t checks;
    bnn_status st;            /* a failed prediction stops the run */
    bnn_error err;
    const mem_plan *mem;      /* --max-memory: the predictions' thinning, the next round's fit */
    int mem_stop;             /* the rounds stopped: another would not fit */
} converge_state;

typedef struct {
    int tty;
    double last_print;
    const converge_state *cs;   /* NULL without --max-time */
} progress_state;

static void on_progress(void *user, const bnn_progress *p)
{
    progress_state *ps = user;
    int final = p->iter_done == p->iter_total;
    if (!ps->tty && !final && p->seconds - ps->last_print < 5.0)
        return;
    ps->last_print = p->seconds;
    double rate = p->seconds > 0 ? (double)p->iter_done / p->seconds : 0;
    double left = rate > 0 ? (double)(p->iter_total - p->iter_done) / rate : 0;
    if (ps->cs) {
        /* rounds: the total is unknown; the time limit and the last check say how far */
        fprintf(stderr, "%s%zu iterations  %.0f it/s  pred R-hat max %.3f  ESS min %.0f  %.0fs "
                "of %.0fs%s", ps->tty ? "\r" : "", p->iter_done, rate, ps->cs->rhat,
                ps->cs->ess, p->seconds, p->seconds_max, ps->tty ? "   " : "\n");
        return;
    }
    fprintf(stderr, "%s%zu/%zu iterations (%3.0f%%)  %.0f it/s  accepted %.1f%%  %s %.0fs%s",
            ps->tty ? "\r" : "", p->iter_done, p->iter_total,
            100.0 * (double)p->iter_done / (double)p->iter_total, rate,
            p->iter_done ? 100.0 * (double)p->accepted / (double)p->iter_done : 0.0,
            final ? "took" : "left", final ? p->seconds : left, ps->tty ? "   " : "\n");
    if (ps->tty && final)
        fputc('\n', stderr);
}

/* ------------------------------------------------------------ run until converged */

/* bnn_run's question after each round: have the predictions of cs->t converged? */
static int predictions_converged(void *user, const bnn_draws *dr)
{
    converge_state *cs = user;
    bnn_prediction *p = NULL;
    cs->checks++;
    if (dr->n_kept < 4)   /* split R-hat needs two halves of two draws */
        return 0;
    /* as the final predictions will be: on the stored predictive draws --max-memory allows */
    size_t thin = mem_pred_thin(cs->mem, dr->n_kept);
    bnn_draws *kept = thin > 1 ? mem_thin_draws(dr, thin) : NULL;
    if (thin > 1 && !kept)
        cs->st = bnn_fail(&cs->err, BNN_ENOMEM, "out of memory thinning the draws");
    else
        cs->st = bnn_predict(cs->m, kept ? kept : dr, cs->t, cs->has_y, cs->seed, cs->threads,
                             &p, &cs->err);
    bnn_draws_free(kept);
    if (cs->st)
        return 1;   /* stop: run_sample reports the failure */
    cs->rhat = p->rhat_max;
    cs->ess = p->ess_bulk_min;
    bnn_prediction_free(p);
    int done = cs->rhat < cs->target_rhat && cs->ess >= cs->target_ess;
    if (!done && !mem_fits(cs->mem, dr->n_kept + cs->mem->round_kept)) {
        /* another round's draws would not fit under --max-memory: stop, not converged */
        cs->mem_stop = 1;
        if (!cs->quiet)
            fprintf(stderr, "bnnmc: round %zu: predictive R-hat max %.4f, bulk ESS min %.0f; "
                    "stopping: another round's draws would not fit under --max-memory\n",
                    cs->checks, cs->rhat, cs->ess);
        return -1;   /* stop, not converged */
    }
    if (!cs->quiet)
        fprintf(stderr, "bnnmc: round %zu, %zu draws per chain: predictive R-hat max %.4f, bulk "
                "ESS min %.0f (%s: R-hat < %g, ESS >= %g)\n", cs->checks, dr->n_kept, cs->rhat,
                cs->ess, done ? "converged" : "want", cs->target_rhat, cs->target_ess);
    return done;
}

/* ------------------------------------------------------------ the run */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The library's settings for what o asks (o's model defaults already applied). */
static void run_config(const sample_opts *o, const double *init,
                       progress_state *ps, bnn_run_config *rc)
{
    bnn_run_config_default(rc);
    rc->sampler = o->sampler;
    rc->n_iter = (size_t)o->samples;
    rc->n_burn = (size_t)sample_opts_burn_count(o);
    if (rc->n_burn >= rc->n_iter)
        die_usage("sample", "--burn-in %g leaves no draws of --samples %ld", o->burn_in, o->samples);
    rc->thin = (size_t)o->thin;
    rc->chains = (int)o->chains;
    rc->threads = (int)o->threads;
    rc->seed = o->seed;
    for (int i = 0; i < o->n_settings; i++)
        bnn_run_config_set(rc, o->settings[i].name, o->settings[i].value);
    rc->target_accept = o->target_accept;
    rc->adapt_metric = !o->no_adapt_metric;
    rc->metric = (bnn_metric)o->metric;
    rc->stepsize = o->stepsize;
    rc->adapt = !o->no_adapt;
    rc->init = init;
    rc->init_map = o->init_map;
    rc->noise_step = o->noise_step;
    rc->save_warmup = o->save_warmup;
    if (!o->quiet) {
        rc->progress = on_progress;
        rc->progress_user = ps;
        rc->progress_interval = ps->tty ? 0.2 : 1.0;
    }
    rc->stop = &stop_flag;
    rc->max_seconds = o->max_time;
    rc->round_iter = (size_t)o->round;
    if (o->checkpoint_every > 0 && o->argv) {   /* a command to resume (not the demo) */
        rc->checkpoint = ckpt_write;
        rc->checkpoint_user = (void *)o->out;
        rc->checkpoint_seconds = o->checkpoint_every;
    }
}

/* --adapt-from DIR: each chain's step size and inverse metric from that run's chain c mod
 * its chain count (the adaptation block of its CSV); exits 2 naming the run when it has none
 * or of another shape. */
static void load_tuning(const sample_opts *o, size_t dim, int chains, int dense, unsigned coords,
                        double **eps, double **metric)
{
    run_folder r;
    char err[RUN_ERR_LEN];
    if (run_folder_load(&r, o->adapt_from, err, sizeof err) != 0)
        die_usage("sample", "--adapt-from: %s", err);
    size_t len = dense ? dim * dim : dim;
    *eps = calloc((size_t)chains, sizeof **eps);
    *metric = calloc((size_t)chains * len, sizeof **metric);
    if (!*eps || !*metric)
        die_runtime("out of memory");
    if (r.params != dim)
        die_usage("sample", "--adapt-from: %s's model has %zu parameters, this one %zu",
                  o->adapt_from, r.params, dim);
    for (int c = 0; c < chains; c++) {
        const stan_csv *s = &r.chain[(size_t)c % r.chains];
        size_t rows = dense ? dim : 1;
        if (!isfinite(s->stepsize) || s->inv_metric_rows != rows || s->inv_metric_cols != dim)
            die_usage("sample", "--adapt-from: %s has no %s step size and inverse metric (%zu x "
                      "%zu) of dimension %zu (a run tuned with --metric %s by mala, hmc or nuts)",
                      s->path, dense ? "dense" : "diagonal", s->inv_metric_rows,
                      s->inv_metric_cols, dim, dense ? "dense" : "diag");
        (*eps)[c] = s->stepsize;
        memcpy(*metric + (size_t)c * len, s->inv_metric, len * sizeof **metric);
    }
    /* the metric is in the coordinates the chains moved in: b2's variance is not the
     * centred level's, nor W1's that of the inputs' axes */
    int centred = (coords & BNN_COORDS_CENTER) != 0, axes = (coords & BNN_COORDS_AXES) != 0;
    if (r.center != centred)
        die_usage("sample", "--adapt-from: %s's chains moved in %s coordinates, this run's "
                  "would move in %s (give --center %s)", o->adapt_from,
                  r.center ? "the centred" : "the model's own", centred ? "the centred" : "the "
                  "model's own", r.center ? "yes" : "no");
    if (r.axes != axes)
        die_usage("sample", "--adapt-from: %s's chains moved %s the inputs' axes, this run's "
                  "would move %s them (give --axes %s)", o->adapt_from, r.axes ? "on" : "off",
                  axes ? "on" : "off", r.axes ? "yes" : "no");
    run_folder_free(&r);
}

/* --init map: each chain's optimum, in the log. */
static void log_start_opt(const sample_opts *o, const bnn_draws *dr)
{
    for (int c = 0; dr->start_opt && !o->quiet && c < dr->chains; c++) {
        const bnn_optimize_result *r = &dr->start_opt[c];
        fprintf(stderr, "bnnmc: chain %d starts at a local optimum: log density %.6g (from %.6g), "
                "|gradient| %.2g, %zu BFGS iterations, %s%s\n", c + 1, r->lp, r->lp_start,
                r->grad_norm, r->iter, bnn_optim_status_str(r->status),
                r->status == BNN_OPTIM_FAILED ? " (the best point seen)" : "");
    }
}

/* Ctrl-C and SIGTERM stop the chains; the draws made so far are written, marked partial. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The predictions of the train (and test) rows from the kept draws, into the run folder. */
static void predict_rows(const sample_opts *o, const bnn_run_config *rc, size_t thin,
                         run_result *res)
{
    bnn_error err = {0};
    /* --max-memory: every thin-th draw of each chain (memory.h) */
    bnn_draws *kept = thin > 1 ? mem_thin_draws(res->draws, thin) : NULL;
    if (thin > 1 && !kept)
        die_runtime("out of memory thinning the draws for the predictions");
    const bnn_draws *dr = kept ? kept : res->draws;
    bnn_status st = bnn_predict(res->model, dr, res->train, 1, o->seed, rc->threads,
                                &res->pred_train, &err);
    if (!st && res->test)
        st = bnn_predict(res->model, dr, res->test, 1, o->seed + 1, rc->threads,
                         &res->pred_test, &err);
    bnn_draws_free(kept);
    if (st)
        die_status(st, &err);
    rundir_write_pred(o->out, "pred-train.csv", res->pred_train);
    if (res->pred_test)
        rundir_write_pred(o->out, "pred-test.csv", res->pred_test);
}

/* A flat prior the model accepts but whose propriety depends on what it cannot check
 * (bnnmc.h, "Priors and propriety"): say so, once, before sampling. pt is refused by name
 * (the model withholds its tempered form: the hot replicas would sample the flat prior). */
void run_check_flat_prior(const bnn_model_spec *sp, const sample_opts *o)
{
    int flat = 0;
    for (int l = 0; l <= sp->n_hidden; l++)
        flat |= isinf(bnn_model_prior_var(sp, l));
    if (flat && o->sampler && strcmp(o->sampler, "pt") == 0)
        die_usage("sample", "--sampler pt: a flat prior cannot be tempered (the hottest replicas "
                  "would sample an improper prior); give --prior-var finite values");
    if (o->quiet || !isinf(bnn_model_prior_var(sp, sp->n_hidden)))
        return;
    if (sp->task == BNN_TASK_CLASSIFICATION)
        fprintf(stderr, "bnnmc: warning: a flat prior on the output layer is proper only when "
                "the classes are not separable; separable data make the weights drift "
                "without bound\n");
    else if (sp->n_hidden > 0)
        fprintf(stderr, "bnnmc: warning: a flat prior on the output layer of a network is not "
                "proven proper (hidden units that become collinear leave it unbounded)\n");
}

void run_sample(sample_opts *o, run_result *res)
{
    double t_start = now();
    memset(res, 0, sizeof *res);
    /* before any work: refuse to clobber a run (resuming continues the one there) */
    if (ranks_root())   /* under MPI rank 0 alone touches the folder */
        rundir_check(o->out, o->force || o->resume);
    int K = 0;
    run_load_data(o, &res->train, &res->test, &K);
    bnn_model_spec spec;
    run_build_spec(o, res->train->p, K, &spec);
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&res->model, &spec, res->train, &err);
    if (st)
        die_status(st, &err);
    run_check_flat_prior(&spec, o);
    const bnn_model *m = res->model;
    if (o->precision > 0 && o->precision_given && !bnn_model_float32(m)) {
        const char *why = "only a network with one hidden layer, not the study's softmax of "
                          "sigmoid outputs, on a processor with AVX2 or AVX-512, has one";
        if (o->resume)
            die_usage("resume", "the run computed its density in single precision, which "
                      "cannot be computed here (%s): resume it where it ran", why);
        die_usage("sample", "--precision single: no single-precision kernel for this model "
                  "here (%s; give --precision double)", why);
    }
    bnn_density d = bnn_model_density(m);
    sample_opts_rows(o, res->train->n, (d.coords & BNN_COORDS_CENTER) != 0);
    double *init = run_make_init(o, m, &d);
    progress_state ps = {isatty(2), 0, NULL};
    bnn_run_config rc;
    run_config(o, init, &ps, &rc);
    converge_state cs = {m, res->test ? res->test : res->train, 1, o->seed + (res->test ? 1 : 0),
                         rc.threads, o->quiet, o->target_rhat, o->target_ess, NAN, NAN, 0,
                         BNN_OK, {0}, NULL, 0};
    if (o->max_time > 0) {
        rc.converged = predictions_converged;
        rc.converged_user = &cs;
        ps.cs = &cs;
    }
    double *tune_eps = NULL, *tune_metric = NULL;
    if (o->adapt_from) {
        load_tuning(o, d.dim, rc.chains, rc.metric == BNN_METRIC_DENSE, d.coords,
                    &tune_eps, &tune_metric);
        rc.adapt_stepsize = tune_eps;
        rc.adapt_inv_metric = tune_metric;
    }
    void **blob = calloc((size_t)rc.chains, sizeof *blob);
    size_t *blob_len = calloc((size_t)rc.chains, sizeof *blob_len);
    if (!blob || !blob_len)
        die_runtime("out of memory");
    if (o->resume) {
        /* the folder stays as it is (its files are replaced whole at the end), so a resume
         * killed at any moment can be resumed again */
        ckpt_lock(o->out);
        int have = ckpt_load(o->out, rc.chains, blob, blob_len);
        if (o->resume == RESUME_EXTEND && have < rc.chains)
            die_usage("extend", "%s: %d of %d chains have a final checkpoint: cannot extend the "
                      "run (its chains would start afresh)", o->out, have, rc.chains);
        rc.resume = (const void *const *)blob;
        rc.resume_len = blob_len;
        if (!o->quiet)
            fprintf(stderr, "bnnmc: resuming %s: %d of %d chains from their checkpoints%s\n",
                    o->out, have, rc.chains, have < rc.chains ? " (the others start afresh)" : "");
    }
    /* before the folder is touched: the settings, and the checkpoints' checksums and headers */
    if ((st = bnn_run_check(&d, &rc, &err)) != BNN_OK)
        die_status(st, &err);
    mem_plan mem;
    mem_plan_make(&mem, o, m, &d, &rc, res->train, res->test);
    mem_check_or_die(&mem, o->quiet);
    cs.mem = &mem;
    if (!o->resume && ranks_root()) {
        /* the lock first (the folder must exist for it), then the old run's files go */
        struct stat sb;
        if (stat(o->out, &sb) != 0)
            rundir_prepare(o->out, o->force);
        ckpt_lock(o->out);
        rundir_prepare(o->out, o->force);
        ckpt_clear(o->out);   /* an earlier run's checkpoints must never be resumed */
    }
    if (o->checkpoint_every > 0 && o->argv)
        ckpt_save_command(o->out, o->argc, o->argv);
    if (ranks_root())
        rundir_write_config(o->out, o, m, res->train, res->test, &rc, "running");
    catch_stop_signals();
    double t0 = now();
    /* bnn_run, or its part of the run under MPI (other ranks than 0 end in it) */
    st = ranks_run(m, res->train, &d, &rc, &res->draws, &err);
    res->seconds_sampling = now() - t0;
    for (int c = 0; c < rc.chains; c++)
        free(blob[c]);
    free(blob);
    free(blob_len);
    free(tune_eps);
    free(tune_metric);
    if (st && st != BNN_EINTR)
        die_status(st, &err);
    if (cs.st)
        die_status(cs.st, &cs.err);
    const bnn_draws *dr = res->draws;
    log_start_opt(o, dr);
    res->partial = st == BNN_EINTR;
    char status[256] = "complete";
    if (res->partial) {
        if (dr->n_iter_done < rc.n_iter || !(o->max_time > 0))
            snprintf(status, sizeof status, "partial: stopped after %zu of %zu iterations per "
                     "chain", dr->n_iter_done, rc.n_iter);
        else   /* in a later round: no total to name */
            snprintf(status, sizeof status, "partial: stopped after %zu iterations per chain, "
                     "in round %zu", dr->n_iter_done, dr->rounds);
        fprintf(stderr, "\nbnnmc: interrupted; writing the %zu draws per chain made so far, "
                "marked partial\n", dr->n_kept);
    }
    rundir_write_chains(o->out, m, dr, o, &rc, res->partial ? status : NULL, rc.threads);
    /* the summary first: its copy of the draws is gone before the predictions are made */
    if (dr->n_kept >= 4)
        rundir_write_summary(o->out, m, dr, rc.threads);
    size_t pred_thin = mem_pred_thin(&mem, dr->n_kept);
    if (!mem_fits(&mem, dr->n_kept) && !o->quiet)
        fprintf(stderr, "bnnmc: warning: %zu draws per chain (more than planned) do not fit "
                "under --max-memory even with 4 predictive draws per chain\n", dr->n_kept);
    if (dr->n_kept > 0)
        predict_rows(o, &rc, pred_thin, res);
    res->seconds_total = now() - t_start;
    rundir_write_metrics(o->out, (bnn_task)o->task, dr, res->partial ? status : NULL,
                         res->pred_train, res->pred_test, res->seconds_sampling,
                         res->seconds_total, o);
    mem_write_metrics(o->out, &mem, dr->n_kept, pred_thin, cs.mem_stop);
    rundir_write_config(o->out, o, m, res->train, res->test, &rc, status);
    free(init);
}

int run_sample_command(sample_opts *o)
{
    run_result r;
    run_sample(o, &r);
    int partial = r.partial;
    if (!o->quiet)
        fprintf(stderr, "bnnmc: %s run written to %s/ (%.1f s)\n", partial ? "partial" : "complete",
                o->out, r.seconds_total);
    run_result_free(&r);
    return partial ? EXIT_RUNTIME : 0;
}

void run_result_free(run_result *r)
{
    bnn_prediction_free(r->pred_train);
    bnn_prediction_free(r->pred_test);
    bnn_draws_free(r->draws);
    bnn_model_free(r->model);
    bnn_table_free(r->train);
    bnn_table_free(r->test);
    memset(r, 0, sizeof *r);
}
