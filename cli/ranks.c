/* ranks.c — `bnnmc sample` over MPI ranks: chains over ranks, or each chain's rows (pt:
 * its replicas) over a group of ranks (ranks.h says what each does). The command line's
 * only MPI code: built with MPI when CMake finds it (BNNMC_HAVE_MPI), else the one-process
 * stand-ins at the end.
 *
 * The ranks' conversation, in order:
 * 1. go: ranks other than 0 wait in ranks_init (a broadcast) while rank 0 reads the options
 *    and the data and prepares the run folder; rank 0 sends -1 from ranks_run (run), or its
 *    exit status if it ends before (an input error, --help, another command): the others
 *    then exit with it, silently.
 * 2. the run: every rank runs its chains (bnn_run). Rows over ranks: each log density is an
 *    MPI_Allreduce over the chain's group (rows_logp). pt's replicas over ranks: every
 *    iteration an MPI_Allgather of flags and the replicas' values over the group
 *    (reps_gather), and a state accepted across two ranks by MPI_Sendrecv_replace
 *    (reps_swap).
 * 3. monitor messages (rank 0's point-to-point inbox, tag TAG_MON): during the run each
 *    rank's progress tick sends its counts to rank 0, which shows the sum; after its run
 *    each rank sends DONE with its status (and message); rank 0 answers every rank with
 *    FINAL once all are done (STOP before that when a rank failed: the others end early).
 *    Every message sent is received, so MPI_Finalize finds no message pending.
 * 4. the verdict in FINAL: a failure (rank 0 prints the first failing rank's message, every
 *    rank exits with its status) or the gather: each rank reporting chains sends them to
 *    rank 0, which assembles the whole run's bnn_draws as bnn_run would have returned it.
 * An unexpected exit of a rank during the run (out of memory in this file, say) calls
 * MPI_Abort from the exit handler: no rank is left waiting.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ranks.h"
#include "util.h"

#ifdef BNNMC_HAVE_MPI
#include <mpi.h>

/* MPI is the process's own state, so this file keeps a little of it too (the rest of the
 * command line keeps none but the Ctrl-C flag): the rank, the rank count, and where in the
 * conversation the process is, for the exit handler. */
enum { PHASE_OFF, PHASE_SETUP, PHASE_RUN, PHASE_DONE };
static struct {
    int phase;
    int rank, size;
    int thread_level;         /* what MPI_Init_thread provided */
    int sample;               /* the command is `sample`: rank 0 will send go */
} mpi = {PHASE_OFF, 0, 1, 0, 0};

enum { TAG_MON = 7, TAG_DRAWS = 8, TAG_SETUP = 9 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
enum { MON_PROGRESS, MON_DONE, MON_STOP, MON_FINAL };

typedef struct {
    int type;
    int status;               /* MON_DONE: the rank's bnn_status; MON_FINAL: the exit status
                                 every rank takes (0: go on to the gather) */
    uint64_t iter_done, accepted;
    char msg[512];            /* MON_DONE with a failure: its message */
} mon_msg;

/* The exit handler (on_exit: it sees the status). Before the run, rank 0 leaving releases
 * the waiting ranks with its status; during it, any rank leaving aborts them all (nothing
 * else can reach a rank blocked in a collective); after it, every rank just finalises. */
static void at_exit(int status, void *arg)
{
    (void)arg;
    int fin = 1;
    MPI_Finalized(&fin);
    if (fin || mpi.phase == PHASE_OFF)
        return;
    if (mpi.phase == PHASE_RUN)
        MPI_Abort(MPI_COMM_WORLD, status ? status : EXIT_RUNTIME);
    if (mpi.phase == PHASE_SETUP && mpi.rank == 0) {
        int go = status;
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    MPI_Finalize();
}

/* Started by mpirun (Open MPI's or MPICH's launcher) with more than one rank? Checked
 * before MPI_Init: a plain run never starts MPI (a singleton MPI_Init spawns a daemon). */
static int launched_by_mpirun(void)
{
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && atoi(v) > 1)
            return 1;
    }
    return 0;
}

void ranks_init(int *argc, char ***argv, const char *command)
{
    if (!launched_by_mpirun())
        return;
    /* chains over ranks call MPI from the main thread alone; rows (and pt's replicas) over
     * ranks from the chain's thread, and from the main thread's progress ticks too when
     * MULTIPLE is given */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &mpi.thread_level) != MPI_SUCCESS) {
        fprintf(stderr, "bnnmc: MPI_Init failed\n");
        exit(EXIT_RUNTIME);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi.size);
    if (mpi.size < 2) {
        MPI_Finalize();
        mpi.size = 1;
        return;
    }
    mpi.phase = PHASE_SETUP;
    on_exit(at_exit, NULL);
    mpi.sample = command && strcmp(command, "sample") == 0;
    if (mpi.rank == 0) {
        const char *one[] = {"resume", "extend", "demo", "variational"};
        for (size_t i = 0; command && i < sizeof one / sizeof one[0]; i++)
            if (strcmp(command, one[i]) == 0)
                die_usage(command, "does not spread over MPI ranks (only 'sample' does): run it "
                          "without mpirun");
        return;
    }
    int go = 0;
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (go >= 0) {   /* rank 0 ended without a run: its status is everyone's */
        mpi.phase = PHASE_DONE;
        exit(go);
    }
    mpi.phase = PHASE_RUN;
}

int ranks_root(void)
{
    return mpi.rank == 0;
}

int ranks_size(void)
{
    return mpi.phase == PHASE_OFF ? 1 : mpi.size;
}

void ranks_sample_defaults(sample_opts *o)
{
    if (mpi.phase != PHASE_OFF)
        o->checkpoint_every = NAN;   /* not given: off under MPI */
}

/* pt's --replicas under the options o (its default when not given). */
static long pt_replicas(const sample_opts *o)
{
    const bnn_kernel *pt = bnn_kernel_find("pt");
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    for (int i = 0; i < o->n_settings; i++)
        bnn_run_config_set(&rc, o->settings[i].name, o->settings[i].value);
    return pt ? (long)bnn_run_config_get(&rc, pt, "replicas") : 0;
}

/* Samplers that move through the log density and its gradient alone, which rows over ranks
 * can sum: not langevin (its map passes over the rows in order), gibbs (exact conditionals
 * of the whole data), pt (the tempered density: its replicas spread instead). */
static int sums_rows(const char *sampler)
{
    const char *ok[] = {"rw", "mala", "hmc", "nuts", "slice"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(sampler, ok[i]) == 0)
            return 1;
    return 0;
}

void ranks_sample_options(sample_opts *o)
{
    if (mpi.phase == PHASE_OFF)
        return;
    if (isnan(o->checkpoint_every))
        o->checkpoint_every = 0;
    /* rows over ranks: each rank's slice of rows alone cannot give the centred level's
     * means, and the sum of the slices is the model's own density, so the defaults are off
     * there (on every rank: each builds its own slice model; a given --center yes or --axes
     * yes is refused below) */
    if (mpi.size > o->chains && strcmp(o->sampler, "pt") != 0) {
        o->center = o->center_given ? o->center : 0;
        o->axes = o->axes_given ? o->axes : 0;
        /* and double precision, where the slices' sum equals one process's to rounding
         * (1e-9 over a trajectory); single sums each slice's gradient in float (1e-7) */
        o->precision = o->precision_given ? o->precision : 0;
    }
    if (mpi.rank != 0) {
        o->quiet = 1;   /* rank 0 has checked the options and speaks for all */
        return;
    }
    if (o->checkpoint_every > 0)
        die_usage("sample", "--checkpoint-every: checkpoints are not written under MPI (leave it "
                  "out or give 0)");
    long R = mpi.size, M = o->chains;
    int pt = strcmp(o->sampler, "pt") == 0;
    if (R > M && R % M != 0)
        die_usage("sample", "%ld MPI ranks for %ld chains: with more ranks than chains the ranks "
                  "split each chain's %s, so their number must be a multiple of --chains", R, M,
                  pt ? "replicas" : "rows");
    if (R > M && pt && R / M > pt_replicas(o))
        die_usage("sample", "--replicas %ld: pt's replicas over ranks (%ld ranks, --chains %ld) "
                  "needs a replica for each of a chain's %ld ranks (give --replicas %ld at "
                  "least, or fewer ranks)", pt_replicas(o), R, M, R / M, R / M);
    if (R > M && !pt && !sums_rows(o->sampler))
        die_usage("sample", "--sampler %s: rows over ranks (%ld ranks for %ld chains) runs rw, "
                  "mala, hmc, nuts and slice, which use the log density alone, and pt spreads its "
                  "replicas (give at least as many chains as ranks to spread the chains "
                  "instead)", o->sampler, R, M);
    if (R > M && !pt && o->center > 0)
        die_usage("sample", "--center yes: rows over ranks (%ld ranks for %ld chains) cannot "
                  "centre on the means over every row (give --center no, or at least as many "
                  "chains as ranks)", R, M);
    if (R > M && !pt && o->axes > 0)
        die_usage("sample", "--axes yes: rows over ranks (%ld ranks for %ld chains) sums the "
                  "slices' densities in the model's own coordinates (give --axes no, or at least "
                  "as many chains as ranks)", R, M);
    if (R > M && !pt && o->noise_step != BNN_NOISE_STEP_NONE)
        die_usage("sample", "--noise-step gibbs: rows over ranks (%ld ranks for %ld chains) "
                  "sums the log density alone (give at least as many chains as ranks)", R, M);
}

/* ------------------------------------------------------------ rows over ranks */

/* The density of a chain's group: the prior (here) plus the group's sum of its ranks' row
 * slices' log-likelihoods, each a slice model's log density minus the prior. Every rank of
 * the group calls it in lockstep: the same chain, seed and start, and the same summed
 * values (an Allreduce hands every rank the same result), so the same next point. The
 * reduction carries two flags besides: stop (a rank was asked to stop: the group stops at
 * the same iteration) and done (a rank has left its run: the others stop too, and its
 * partners keep it company until all have left, see rows_leave). */
typedef struct {
    bnn_density part;         /* the slice model's */
    const bnn_model *slice;
    MPI_Comm group;
    int G;
    size_t dim;
    volatile int *user_stop;  /* Ctrl-C, or rank 0's STOP */
    volatile int group_stop;  /* the group's agreed stop: the run's bnn_run_config.stop */
} rows_ctx;

/* the reduction's layout, then dim grads; RED_HASH sums each rank's hash of theta, so a
 * rank that left lockstep (processors or libraries that round differently) is caught, not
 * summed in at another point */
enum { RED_LL, RED_STOP, RED_DONE, RED_HASH, RED_GRAD };

/* theta's bytes hashed (FNV-1a) to 40 bits: a double, and G of them sum exactly */
static double theta_hash(const double *theta, size_t dim)
{
    const unsigned char *p = (const unsigned char *)theta;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < dim * sizeof *theta; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (double)(h >> 24);
}

static double rows_logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const rows_ctx *rc = ctx;
    size_t dim = rc->dim;
    double *buf = work + rc->part.work_len, *gp = buf + RED_GRAD + dim;
    double prior = bnn_model_log_prior(rc->slice, theta, grad ? gp : NULL);
    double lp = rc->part.logp(rc->part.ctx, work, theta, grad ? buf + RED_GRAD : NULL);
    buf[RED_LL] = lp - prior;
    buf[RED_STOP] = *rc->user_stop ? 1 : 0;
    buf[RED_DONE] = 0;
    double h = theta_hash(theta, dim);
    buf[RED_HASH] = h;
    if (grad)
        for (size_t j = 0; j < dim; j++)
            buf[RED_GRAD + j] -= gp[j];
    else
        memset(buf + RED_GRAD, 0, dim * sizeof *buf);
    MPI_Allreduce(MPI_IN_PLACE, buf, (int)(RED_GRAD + dim), MPI_DOUBLE, MPI_SUM, rc->group);
    if (buf[RED_STOP] > 0 || buf[RED_DONE] > 0)
        ((rows_ctx *)rc)->group_stop = 1;   /* the one field the chain's thread writes */
    if (buf[RED_DONE] > 0)
        return -INFINITY;   /* a partner has left: the sum lacks its rows */
    if (buf[RED_HASH] != rc->G * h)
        die_runtime("rows over ranks: the ranks of a chain's group evaluated different points "
                    "(they left lockstep: processors or libraries that round differently?)");
    lp = prior + buf[RED_LL];
    if (grad)
        for (size_t j = 0; j < dim; j++)
            grad[j] = gp[j] + buf[RED_GRAD + j];
    return isnan(lp) ? -INFINITY : lp;
}

/* After its run, a rank of a group posts done (and stop when it failed) until every rank
 * of the group has: a rank whose run failed alone (out of memory, say) keeps answering its
 * partners' reductions, which then see the flags and stop, so none is left waiting. */
static void rows_leave(rows_ctx *rc, int failed)
{
    size_t n = RED_GRAD + rc->dim;
    double *buf = calloc(n, sizeof *buf);
    if (!buf)
        die_runtime("out of memory");
    for (;;) {
        memset(buf, 0, n * sizeof *buf);
        buf[RED_STOP] = failed;
        buf[RED_DONE] = 1;
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, rc->group);
        if (buf[RED_DONE] >= rc->G)
            break;
    }
    free(buf);
}

/* ------------------------------------------------------------ pt's replicas over ranks */

/* A pt chain's group: each rank moves a block of the replicas (the library's
 * bnn_run_config.replica_parts) and meets the others through the two calls below. Every
 * meeting is one MPI_Allgather of a record of fixed width per rank: two flags, as rows over
 * ranks carries them, then the library's values (padded). The flags: stop (the group stops
 * after this iteration) and done (a rank has left its run: the others stop, and take
 * nothing from the records, so none waits for the rank that left). The width is the
 * library's largest n (2 + 2 ceil(K / G)), so a rank that has left answers any meeting.
 * The library's last value is its lockstep hash: a group whose ranks disagree on it has
 * left lockstep and ends with an error, as rows over ranks does. */
typedef struct {
    MPI_Comm group;
    int G;
    size_t width;             /* doubles per rank's record */
    double *rec, *all;        /* this rank's record; every rank's (G width) */
    volatile int *user_stop;  /* Ctrl-C, or rank 0's STOP */
    volatile int group_stop;  /* the group's agreed stop: the run's bnn_run_config.stop */
} reps_ctx;

enum { TAG_SWAP = 10, REC_STOP = 0, REC_DONE, REC_DATA };

/* A meeting with n of the library's values (mine; NULL to post flags alone): 1 when the
 * group goes on (no rank has left), the ranks' values then in rc->all; *n_done the ranks
 * that have left. */
static int reps_meet(reps_ctx *rc, int stop, int done, const double *mine, size_t n,
                     int *n_done)
{
    rc->rec[REC_STOP] = stop;
    rc->rec[REC_DONE] = done;
    memset(rc->rec + REC_DATA, 0, (rc->width - REC_DATA) * sizeof *rc->rec);
    if (mine)
        memcpy(rc->rec + REC_DATA, mine, n * sizeof *mine);
    MPI_Allgather(rc->rec, (int)rc->width, MPI_DOUBLE, rc->all, (int)rc->width, MPI_DOUBLE,
                  rc->group);
    int stops = 0, dones = 0;
    for (int j = 0; j < rc->G; j++) {
        stops += rc->all[(size_t)j * rc->width + REC_STOP] > 0;
        dones += rc->all[(size_t)j * rc->width + REC_DONE] > 0;
    }
    if (stops || dones)
        rc->group_stop = 1;
    *n_done = dones;
    return dones == 0;
}

static int reps_gather(void *user, const double *mine, size_t n, double *all)
{
    reps_ctx *rc = user;
    int n_done;
    if (n + REC_DATA > rc->width)
        die_runtime("pt's replicas over ranks: %zu values for a record of %zu", n,
                    rc->width - REC_DATA);
    if (!reps_meet(rc, *rc->user_stop ? 1 : 0, 0, mine, n, &n_done))
        return 1;
    for (int j = 0; j < rc->G; j++) {
        const double *r = rc->all + (size_t)j * rc->width + REC_DATA;
        if (r[n - 1] != mine[n - 1])
            die_runtime("pt's replicas over ranks: the ranks of a chain's group hold different "
                        "ladders or exchange decisions (they left lockstep: processors or "
                        "libraries that round differently?)");
        memcpy(all + (size_t)j * n, r, n * sizeof *all);
    }
    return 0;
}

/* Both ranks of a pair reach this after the same gather (none of them had left). */
static void reps_swap(void *user, int part, double *buf, size_t n)
{
    reps_ctx *rc = user;
    MPI_Sendrecv_replace(buf, (int)n, MPI_DOUBLE, part, TAG_SWAP, part, TAG_SWAP, rc->group,
                         MPI_STATUS_IGNORE);
}

/* After its run, a rank posts done (and stop when it failed) until every rank of the group
 * has: its partners' next gather sees the flag and stops them (as rows_leave). */
static void reps_leave(reps_ctx *rc, int failed)
{
    int n_done = 0;
    do
        reps_meet(rc, failed, 1, NULL, 0, &n_done);
    while (n_done < rc->G);
}

/* ------------------------------------------------------------ the monitor */

typedef struct {
    const bnn_run_config *user;   /* the caller's config: its progress callback and stop */
    int reporting;                /* this rank's chains are in the run folder */
    int ticks_mpi;                /* progress ticks may call MPI (not on the chain's thread) */
    size_t total;                 /* iterations of the whole run */
    double t0;
    uint64_t own_iter, own_acc;   /* this rank's counts at its latest tick */
    /* rank 0: every rank's latest counts, and who is done */
    uint64_t *iter_done, *accepted;
    int *done, n_done;
    int failed_rank;              /* the first rank whose run failed, or -1 */
    int stopping;                 /* rank 0 has sent STOP */
    uint64_t shown;               /* the iteration count last shown */
    mon_msg failure;
    int chains_here, chains_all;  /* this rank's chains, the run's (scaling its counts) */
} monitor;

static void send_mon(const mon_msg *m, int to)
{
    MPI_Send(m, (int)sizeof *m, MPI_BYTE, to, TAG_MON, MPI_COMM_WORLD);
}

/* Rank 0: STOP to every rank not yet done, and to itself (the user's stop flag); once. */
static void stop_all(monitor *mo)
{
    if (mo->stopping)
        return;
    mo->stopping = 1;
    mon_msg m = {MON_STOP, 0, 0, 0, ""};
    for (int r = 1; r < mpi.size; r++)
        if (!mo->done[r])
            send_mon(&m, r);
    if (mo->user->stop)
        *mo->user->stop = 1;
}

/* Rank 0: takes message m from rank src into the tally. */
static void take_mon(monitor *mo, const mon_msg *m, int src)
{
    mo->iter_done[src] = m->iter_done;
    mo->accepted[src] = m->accepted;
    if (m->type != MON_DONE)
        return;
    mo->done[src] = 1;
    mo->n_done++;
    /* a rank stopped (Ctrl-C reaching it alone, or a signal from a batch system) stops
     * the run, as a stop of the threaded run stops every chain: the others would
     * otherwise run to their end for draws the gather cuts to the stopped rank's */
    if (m->status == BNN_EINTR)
        stop_all(mo);
    if (m->status != BNN_OK && m->status != BNN_EINTR &&
        (mo->failed_rank < 0 || src < mo->failed_rank)) {
        mo->failed_rank = src;
        mo->failure = *m;
        stop_all(mo);
    }
}

/* Rank 0: the user's progress callback with the whole run's counts. */
static void show_progress(monitor *mo)
{
    if (!mo->user->progress)
        return;
    bnn_progress p = {0, mo->total, 0, now() - mo->t0, mo->user->max_seconds};
    for (int r = 0; r < mpi.size; r++) {
        p.iter_done += mo->iter_done[r];
        p.accepted += mo->accepted[r];
    }
    if (p.iter_done == mo->shown && p.iter_done == p.iter_total)
        return;   /* the final line once */
    mo->shown = p.iter_done;
    mo->user->progress(mo->user->progress_user, &p);
}

/* Every rank's progress tick (bnn_run's progress callback, on the main thread). */
static void on_tick(void *user, const bnn_progress *p)
{
    monitor *mo = user;
    mo->own_iter = mo->reporting ? p->iter_done : 0;
    mo->own_acc = mo->reporting ? p->accepted : 0;
    if (mpi.rank == 0) {
        mo->iter_done[0] = mo->own_iter;
        mo->accepted[0] = mo->own_acc;
    }
    if (!mo->ticks_mpi) {
        if (mpi.rank == 0 && mo->user->progress) {   /* rank 0's chains alone, scaled */
            bnn_progress q = *p;
            /* by the chain counts, not by iter_total: that grows with --max-time's rounds */
            uint64_t a = (uint64_t)mo->chains_all, b = (uint64_t)mo->chains_here;
            q.iter_done = p->iter_done * a / b;
            q.accepted = p->accepted * a / b;
            q.iter_total = p->iter_total * a / b;
            q.seconds_max = mo->user->max_seconds;   /* not the rounds' INFINITY */
            mo->user->progress(mo->user->progress_user, &q);
        }
        return;
    }
    int flag = 1;
    MPI_Status s;
    if (mpi.rank != 0) {
        mon_msg m = {MON_PROGRESS, 0, mo->own_iter, mo->own_acc, ""};
        send_mon(&m, 0);
        /* rank 0 sends only STOP before FINAL, and FINAL only after this rank's DONE */
        while (MPI_Iprobe(0, TAG_MON, MPI_COMM_WORLD, &flag, &s), flag) {
            MPI_Recv(&m, (int)sizeof m, MPI_BYTE, 0, TAG_MON, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (m.type == MON_STOP && mo->user->stop)
                *mo->user->stop = 1;
        }
        return;
    }
    while (MPI_Iprobe(MPI_ANY_SOURCE, TAG_MON, MPI_COMM_WORLD, &flag, &s), flag) {
        mon_msg m;
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, s.MPI_SOURCE, TAG_MON, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        take_mon(mo, &m, s.MPI_SOURCE);
    }
    show_progress(mo);
}

/* After the run, DONE to rank 0 (rank 0: its own into the tally, which stops the others
 * when it failed). Split from finish so that --max-time's rounds can post it before their
 * last meeting: a failure then stops the other ranks' round, not the round's end. */
static void post_done(monitor *mo, bnn_status st, const bnn_error *err)
{
    mon_msg m = {MON_DONE, (int)st, mo->own_iter, mo->own_acc, ""};
    snprintf(m.msg, sizeof m.msg, "%s", st && err->msg[0] ? err->msg : bnn_status_str(st));
    if (mpi.rank != 0)
        send_mon(&m, 0);
    else
        take_mon(mo, &m, 0);
}

/* After post_done: FINAL back to every rank once all are done. Returns the exit status
 * FINAL carries (0: go on to the gather). Rank 0 reports the first failing rank's message. */
static int finish(monitor *mo)
{
    if (mpi.rank != 0) {
        mon_msg m;
        do   /* STOPs sent before rank 0 saw DONE, then FINAL */
            MPI_Recv(&m, (int)sizeof m, MPI_BYTE, 0, TAG_MON, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        while (m.type != MON_FINAL);
        return m.status;
    }
    while (mo->n_done < mpi.size) {
        mon_msg m;
        MPI_Status s;
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, MPI_ANY_SOURCE, TAG_MON, MPI_COMM_WORLD, &s);
        take_mon(mo, &m, s.MPI_SOURCE);
        if (m.type == MON_DONE)
            show_progress(mo);
    }
    int code = 0;
    if (mo->failed_rank >= 0) {
        bnn_status fs = (bnn_status)mo->failure.status;
        fprintf(stderr, "bnnmc: %s\n", mo->failure.msg);
        code = fs == BNN_EPARSE || fs == BNN_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
    }
    mon_msg fin = {MON_FINAL, code, 0, 0, ""};
    for (int r = 1; r < mpi.size; r++)
        send_mon(&fin, r);
    return code;
}

/* ------------------------------------------------------------ the gather */

/* A growable byte buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            die_runtime("out of memory gathering the draws");
        b->p = q;
        b->cap = cap;
    }
    if (src && n)   /* src NULL: room only (recv_bytes fills it) */
        memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void get(const bytes *b, size_t *pos, void *dst, size_t n)
{
    if (*pos + n > b->len)
        die_runtime("MPI: a rank's draws arrived cut short");
    if (n)
        memcpy(dst, b->p + *pos, n);
    *pos += n;
}

/* The per-draw arrays of dr (as src/mcmc/run.c's draw_arrays): their pointers and sizes. */
typedef struct {
    void **p;
    size_t size;
} field;

static size_t row_fields(bnn_draws *dr, field *f)
{
    size_t n = 0;
    f[n++] = (field){(void **)&dr->theta, dr->dim * sizeof(double)};
    f[n++] = (field){(void **)&dr->lp, sizeof(double)};
    f[n++] = (field){(void **)&dr->accept_stat, sizeof(double)};
    f[n++] = (field){(void **)&dr->stepsize, sizeof(double)};
    f[n++] = (field){(void **)&dr->energy, sizeof(double)};
    f[n++] = (field){(void **)&dr->treedepth, sizeof(int)};
    f[n++] = (field){(void **)&dr->n_leapfrog, sizeof(int)};
    f[n++] = (field){(void **)&dr->divergent, sizeof(int)};
    f[n++] = (field){(void **)&dr->extra, dr->n_extra * sizeof(double)};
    return n;
}

/* The per-chain arrays: their pointers and sizes per chain (inv_metric_dense and start_opt
 * only when the run has them). */
static size_t chain_fields(bnn_draws *dr, field *f)
{
    size_t n = 0;
    f[n++] = (field){(void **)&dr->step_final, sizeof(double)};
    f[n++] = (field){(void **)&dr->inv_metric, dr->dim * sizeof(double)};
    f[n++] = (field){(void **)&dr->accept_rate, sizeof(double)};
    f[n++] = (field){(void **)&dr->seconds_warmup, sizeof(double)};
    f[n++] = (field){(void **)&dr->seconds_sampling, sizeof(double)};
    f[n++] = (field){(void **)&dr->seconds_checkpoint, sizeof(double)};
    f[n++] = (field){(void **)&dr->n_checkpoints, sizeof(size_t)};
    if (dr->inv_metric_dense)
        f[n++] = (field){(void **)&dr->inv_metric_dense, dr->dim * dr->dim * sizeof(double)};
    if (dr->start_opt)
        f[n++] = (field){(void **)&dr->start_opt, sizeof(bnn_optimize_result)};
    return n;
}

/* What a rank's draws say of themselves, ahead of them. */
typedef struct {
    uint64_t chains, n_kept, n_warm, n_iter_done;
    uint64_t k0, w0;   /* the rows and warm-up rows sent before (rank 0 holds them) */
} draws_head;

/* Chains of dr as bytes: the head, then chain by chain its rows from k0 and warm-up rows
 * from w0 (the ones not sent before; 0, 0: all), and its per-chain values. */
static void pack(bnn_draws *dr, size_t k0, size_t w0, bytes *b)
{
    size_t warm = dr->warmup ? dr->warmup->n_kept : 0;
    draws_head h = {(uint64_t)dr->chains, dr->n_kept - k0, warm - w0, dr->n_iter_done, k0, w0};
    put(b, &h, sizeof h);
    field f[16], w[16], c[16];
    size_t nf = row_fields(dr, f), nw = dr->warmup ? row_fields(dr->warmup, w) : 0;
    size_t nc = chain_fields(dr, c);
    for (int k = 0; k < dr->chains; k++) {
        for (size_t i = 0; i < nf; i++)
            put(b, (char *)*f[i].p + ((size_t)k * dr->n_kept + k0) * f[i].size,
                h.n_kept * f[i].size);
        for (size_t i = 0; i < nw; i++)
            put(b, (char *)*w[i].p + ((size_t)k * warm + w0) * w[i].size, h.n_warm * w[i].size);
        for (size_t i = 0; i < nc; i++)
            put(b, (char *)*c[i].p + (size_t)k * c[i].size, c[i].size);
    }
}

/* Room in out (shaped as like, the whole run's M chains) for keep rows and warm rows per
 * chain. */
static void alloc_whole(bnn_draws *out, const bnn_draws *like, int M, size_t keep, size_t warm)
{
    out->chains = M;
    out->dim = like->dim;
    out->n_kept = keep;
    out->n_burn = like->n_burn;
    out->thin = like->thin;
    out->n_extra = like->n_extra;
    out->kernel = like->kernel;
    out->adapted = like->adapted;
    out->metric = like->metric;
    out->rounds = like->rounds;
    out->converged = like->converged;
    out->inv_metric_dense = like->inv_metric_dense ? (double *)1 : NULL;   /* wanted */
    out->start_opt = like->start_opt ? (bnn_optimize_result *)1 : NULL;
    field f[16];
    size_t nf = row_fields(out, f);
    for (size_t i = 0; i < nf; i++)
        if (!(*f[i].p = calloc((size_t)M * keep * f[i].size + 1, 1)))
            die_runtime("out of memory gathering the draws");
    nf = chain_fields(out, f);
    for (size_t i = 0; i < nf; i++)
        if (!(*f[i].p = calloc((size_t)M * f[i].size + 1, 1)))
            die_runtime("out of memory gathering the draws");
    if (like->warmup) {
        if (!(out->warmup = calloc(1, sizeof *out->warmup)))
            die_runtime("out of memory gathering the draws");
        bnn_draws *w = out->warmup;
        w->chains = M;
        w->dim = like->dim;
        w->n_kept = warm;
        w->n_burn = like->n_burn;
        w->thin = like->thin;
        w->n_extra = like->n_extra;
        w->kernel = like->kernel;
        w->metric = like->metric;
        nf = row_fields(w, f);
        for (size_t i = 0; i < nf; i++)
            if (!(*f[i].p = calloc((size_t)M * warm * f[i].size + 1, 1)))
                die_runtime("out of memory gathering the draws");
    }
}

/* Unpacks a rank's bytes (its head already read into h) as chains first.. of out: its rows
 * from row k0 of each chain up to out->n_kept, its warm-up rows from w0 up to
 * out->warmup->n_kept (rows past those, which some chain did not reach, are skipped). */
static void unpack(const bytes *b, size_t pos, const draws_head *h, bnn_draws *out, int first,
                   size_t k0, size_t w0)
{
    field f[16], w[16], c[16];
    size_t nf = row_fields(out, f), nw = out->warmup ? row_fields(out->warmup, w) : 0;
    size_t nc = chain_fields(out, c), keep = out->n_kept;
    size_t warm = out->warmup ? out->warmup->n_kept : 0;
    for (uint64_t k = 0; k < h->chains; k++) {
        size_t to = (size_t)first + k;
        for (size_t i = 0; i < nf; i++) {
            get(b, &pos, (char *)*f[i].p + (to * keep + k0) * f[i].size, (keep - k0) * f[i].size);
            pos += (h->n_kept - (keep - k0)) * f[i].size;
        }
        for (size_t i = 0; i < nw; i++) {
            get(b, &pos, (char *)*w[i].p + (to * warm + w0) * w[i].size, (warm - w0) * w[i].size);
            pos += (h->n_warm - (warm - w0)) * w[i].size;
        }
        for (size_t i = 0; i < nc; i++)
            get(b, &pos, (char *)*c[i].p + to * c[i].size, c[i].size);
    }
}

/* The first k0 rows and w0 warm-up rows of each of from's chains into out (shaped for at
 * least as many). */
static void copy_rows(bnn_draws *from, size_t k0, size_t w0, bnn_draws *out)
{
    field f[16], t[16];
    size_t nf = row_fields(from, f);
    row_fields(out, t);
    for (int c = 0; c < out->chains; c++)
        for (size_t i = 0; i < nf; i++)
            memcpy((char *)*t[i].p + (size_t)c * out->n_kept * t[i].size,
                   (char *)*f[i].p + (size_t)c * from->n_kept * f[i].size, k0 * f[i].size);
    if (!from->warmup || !out->warmup)
        return;
    nf = row_fields(from->warmup, f);
    row_fields(out->warmup, t);
    for (int c = 0; c < out->chains; c++)
        for (size_t i = 0; i < nf; i++)
            memcpy((char *)*t[i].p + (size_t)c * out->warmup->n_kept * t[i].size,
                   (char *)*f[i].p + (size_t)c * from->warmup->n_kept * f[i].size,
                   w0 * f[i].size);
}

/* Point-to-point of a byte buffer of any length (MPI counts are ints: pieces of 1 GiB). */
static void send_bytes(const bytes *b, int to)
{
    uint64_t n = b->len;
    MPI_Send(&n, 1, MPI_UINT64_T, to, TAG_DRAWS, MPI_COMM_WORLD);
    for (size_t off = 0; off < b->len; off += (size_t)1 << 30) {
        size_t piece = b->len - off < ((size_t)1 << 30) ? b->len - off : (size_t)1 << 30;
        MPI_Send(b->p + off, (int)piece, MPI_BYTE, to, TAG_DRAWS, MPI_COMM_WORLD);
    }
}

static void recv_bytes(bytes *b, int from)
{
    uint64_t n;
    MPI_Recv(&n, 1, MPI_UINT64_T, from, TAG_DRAWS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    b->len = 0;
    put(b, NULL, (size_t)n);
    for (size_t off = 0; off < b->len; off += (size_t)1 << 30) {
        size_t piece = b->len - off < ((size_t)1 << 30) ? b->len - off : (size_t)1 << 30;
        MPI_Recv(b->p + off, (int)piece, MPI_BYTE, from, TAG_DRAWS, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    }
}

/* Every reporting rank's chains to rank 0, which returns the whole run's draws (the rows
 * that every chain reached: a stopped run's chains may have reached different counts).
 * prev (rank 0), when not NULL: the whole run's draws gathered before, whose rows the ranks
 * do not send again (they send from their sent_kept and sent_warm rows, which are prev's
 * counts); it is freed here. */
static bnn_draws *gather(bnn_draws *mine, int reporting, int M, bnn_draws *prev,
                         size_t sent_kept, size_t sent_warm)
{
    bytes b = {0};
    if (reporting)
        pack(mine, sent_kept, sent_warm, &b);
    if (mpi.rank != 0) {
        if (reporting)
            send_bytes(&b, 0);
        free(b.p);
        return NULL;
    }
    /* which ranks report, and their bytes */
    int *rep = calloc((size_t)mpi.size, sizeof *rep);
    bytes *got = calloc((size_t)mpi.size, sizeof *got);
    if (!rep || !got)
        die_runtime("out of memory gathering the draws");
    got[0] = b;
    rep[0] = reporting;
    for (int r = 1; r < mpi.size; r++) {
        int has;
        MPI_Recv(&has, 1, MPI_INT, r, TAG_DRAWS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        rep[r] = has;
        if (has)
            recv_bytes(&got[r], r);
    }
    /* the rows every chain reached (new ones: after prev's) */
    uint64_t keep = UINT64_MAX, warm = UINT64_MAX, iter = UINT64_MAX;
    for (int r = 0; r < mpi.size; r++) {
        if (!rep[r])
            continue;
        draws_head h;
        size_t pos = 0;
        get(&got[r], &pos, &h, sizeof h);
        /* every round is whole on every rank, so each has sent as many rows before */
        if (h.k0 != (prev ? prev->n_kept : 0) ||
            h.w0 != (prev && prev->warmup ? prev->warmup->n_kept : 0))
            die_runtime("MPI: rank %d's draws continue from row %" PRIu64 ", rank 0 holds %zu",
                        r, h.k0, prev ? prev->n_kept : (size_t)0);
        keep = h.n_kept < keep ? h.n_kept : keep;
        warm = h.n_warm < warm ? h.n_warm : warm;
        iter = h.n_iter_done < iter ? h.n_iter_done : iter;
    }
    size_t k0 = prev ? prev->n_kept : 0, w0 = prev && prev->warmup ? prev->warmup->n_kept : 0;
    bnn_draws *out = calloc(1, sizeof *out);
    if (!out)
        die_runtime("out of memory gathering the draws");
    alloc_whole(out, mine, M, k0 + (size_t)keep, mine->warmup ? w0 + (size_t)warm : 0);
    out->n_iter_done = (size_t)iter;
    if (prev)
        copy_rows(prev, k0, w0, out);
    int first = 0;
    for (int r = 0; r < mpi.size; r++) {
        if (!rep[r])
            continue;
        draws_head h;
        size_t pos = 0;
        get(&got[r], &pos, &h, sizeof h);
        unpack(&got[r], pos, &h, out, first, k0, w0);
        first += (int)h.chains;
        free(got[r].p);
    }
    if (first != M)
        die_runtime("MPI: the ranks reported %d of %d chains", first, M);
    free(got);
    free(rep);
    bnn_draws_free(prev);
    return out;
}

/* Ranks other than 0 tell rank 0 whether draws follow (then gather sends them). */
static void announce(int reporting)
{
    if (mpi.rank != 0)
        MPI_Send(&reporting, 1, MPI_INT, 0, TAG_DRAWS, MPI_COMM_WORLD);
}

/* ------------------------------------------------------------ rounds over ranks */

/* --max-time with the chains (or the rows) over ranks. bnn_run runs each rank's chains in
 * rounds with no time limit of its own (max_seconds = INFINITY, so every round is whole on
 * every rank) and asks round_check after each: a meeting of every rank, first of two counts
 * (MPI_Allreduce): ranks stopped (Ctrl-C) and ranks that have left their run (a failure, or
 * the end). When all are in their run and none stopped, every reporting rank's draws go to
 * rank 0 (gather, below; rows over ranks: each group's first rank's),
 * which asks the caller's check on the whole run's draws and applies the time limit; its
 * answer is broadcast, so every rank ends its run after the same round. Unlike the threaded
 * run, the time limit is applied only between rounds: a run may end up to a round late. A
 * rank that has left posts it until every rank has (rounds_leave), as rows_leave does, so
 * none waits at a meeting for a rank that will not come. */
typedef struct {
    int (*converged)(void *user, const bnn_draws *dr);   /* the caller's check (rank 0) */
    void *converged_user;
    double deadline;          /* now()'s clock */
    int M;                    /* the run's chains */
    int reporting;            /* this rank's draws count (rows over ranks: a group's first) */
    volatile int *user_stop;  /* Ctrl-C */
    volatile int no_stop;     /* user_stop when the caller gave none */
    int stopped;              /* a rank was stopped: the run is partial */
    /* each check sends only the rows made since the last: every rank counts the rows it
     * sent, rank 0 keeps what it gathered (every round is whole on every rank, so all
     * reporting ranks have sent as many) */
    size_t sent_kept, sent_warm;
    bnn_draws *whole;         /* rank 0: the run's draws at the last check */
} rounds_ctx;

enum { RND_STOPPED, RND_LEFT, RND_N };

static int round_check(void *user, const bnn_draws *dr)
{
    rounds_ctx *rc = user;
    int f[RND_N] = {*rc->user_stop ? 1 : 0, 0};
    MPI_Allreduce(MPI_IN_PLACE, f, RND_N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (f[RND_STOPPED])
        rc->stopped = 1;
    if (f[RND_STOPPED] || f[RND_LEFT])
        return -1;   /* every rank saw the same counts: all end here */
    announce(rc->reporting);
    /* only reads dr */
    rc->whole = gather((bnn_draws *)dr, rc->reporting, rc->M, rc->whole, rc->sent_kept,
                       rc->sent_warm);
    rc->sent_kept = dr->n_kept;
    rc->sent_warm = dr->warmup ? dr->warmup->n_kept : 0;
    int verdict = 0;
    if (mpi.rank == 0) {
        verdict = rc->converged ? rc->converged(rc->converged_user, rc->whole) : 0;
        if (verdict == 0 && now() >= rc->deadline)
            verdict = -1;
    }
    MPI_Bcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return verdict;
}

static void rounds_leave(rounds_ctx *rc, int stopped)
{
    for (;;) {
        int f[RND_N] = {stopped, 1};
        MPI_Allreduce(MPI_IN_PLACE, f, RND_N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (f[RND_STOPPED])
            rc->stopped = 1;
        if (f[RND_LEFT] >= mpi.size)
            break;
    }
}

/* bnn_run in rounds over the ranks (rc's caller config rc0 has max_seconds): each rank's
 * run has no time limit of its own and asks round_check after every round. */
static void rounds_setup(rounds_ctx *r, bnn_run_config *rc, const bnn_run_config *rc0, int M,
                         int reporting)
{
    r->converged = rc0->converged;
    r->converged_user = rc0->converged_user;
    r->deadline = now() + rc0->max_seconds;
    r->M = M;
    r->reporting = reporting;
    r->user_stop = rc0->stop ? rc0->stop : &r->no_stop;
    rc->max_seconds = INFINITY;
    rc->converged = round_check;
    rc->converged_user = r;
}

/* ------------------------------------------------------------ the run */

/* The rank's status before the run (its row slice's model) agreed by all: 0 to go on, or
 * the exit status after rank 0 printed the first failing rank's message. */
static int agree_setup(bnn_status st, const bnn_error *err)
{
    int *all = calloc((size_t)mpi.size, sizeof *all);
    char msg[512];
    if (!all)
        die_runtime("out of memory");
    int mine = (int)st;
    MPI_Allgather(&mine, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    int first = -1;
    for (int r = 0; r < mpi.size && first < 0; r++)
        if (all[r])
            first = r;
    int code = 0;
    if (first >= 0) {
        snprintf(msg, sizeof msg, "%s", st && err->msg[0] ? err->msg : bnn_status_str(st));
        if (first != 0 && mpi.rank == first)
            MPI_Send(msg, (int)sizeof msg, MPI_CHAR, 0, TAG_SETUP, MPI_COMM_WORLD);
        if (mpi.rank == 0) {
            if (first != 0)
                MPI_Recv(msg, (int)sizeof msg, MPI_CHAR, first, TAG_SETUP, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            fprintf(stderr, "bnnmc: rank %d: %s\n", first, msg);
        }
        code = all[first] == BNN_EPARSE || all[first] == BNN_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
    }
    free(all);
    return code;
}

bnn_status ranks_run(const bnn_model *m, const bnn_table *train, const bnn_density *d,
                     const bnn_run_config *rc0, bnn_draws **out, bnn_error *err)
{
    if (mpi.phase == PHASE_OFF || !mpi.sample)
        return bnn_run(d, rc0, out, err);
    *out = NULL;
    if (mpi.rank == 0) {   /* rank 0's setup has passed: the others may start theirs */
        int go = -1;
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
        mpi.phase = PHASE_RUN;
    }
    int R = mpi.size, M = rc0->chains;
    /* every rank computes the density in the precision rank 0 records: a node without AVX2
     * has no single-precision kernel (bnn_model_float32) and would compute in double */
    int f32 = bnn_model_float32(m), f32_lo = f32, f32_hi = f32;
    MPI_Allreduce(&f32, &f32_lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&f32, &f32_hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (f32_lo != f32_hi) {
        if (mpi.rank == 0)
            fprintf(stderr, "bnnmc: the ranks' processors differ: some have no single-precision "
                    "kernel (AVX2), so the density would differ between ranks (give --precision "
                    "double)\n");
        mpi.phase = PHASE_DONE;
        exit(EXIT_USAGE);
    }
    bnn_run_config rc = *rc0;
    monitor mo = {.user = rc0, .reporting = 1, .ticks_mpi = mpi.thread_level >= MPI_THREAD_FUNNELED,
                  .total = (size_t)M * rc0->n_iter, .t0 = now(), .failed_rank = -1,
                  .chains_here = 1, .chains_all = 1};
    rows_ctx rows = {0};
    reps_ctx reps = {0};
    rounds_ctx rounds = {0};
    bnn_model *slice = NULL;
    bnn_table view;
    bnn_density dd = *d;
    int by_reps = R > M && rc0->sampler && strcmp(rc0->sampler, "pt") == 0;
    int by_rows = R > M && !by_reps;
    bnn_status st = BNN_OK;
    if (by_reps) {
        /* group g runs pt chain g; its j-th rank moves block j of the replicas */
        int G = R / M, g = mpi.rank / G, j = mpi.rank % G;
        rc.chain_lo = g;
        rc.chain_hi = g + 1;
        mo.reporting = j == 0;   /* the beta = 1 replica is on the group's first rank */
        mo.ticks_mpi = mpi.thread_level >= MPI_THREAD_MULTIPLE;
        if (mpi.thread_level < MPI_THREAD_SERIALIZED)
            st = bnn_fail(err, BNN_EINVAL, "pt's replicas over ranks: this MPI gives no thread "
                          "support (MPI_THREAD_SERIALIZED at least is needed)");
        int code = agree_setup(st, err);
        if (code) {
            mpi.phase = PHASE_DONE;
            exit(code);
        }
        reps.G = G;
        long K = (long)bnn_run_config_get(rc0, bnn_kernel_find("pt"), "replicas");
        reps.width = REC_DATA + 2 + 2 * (size_t)((K + G - 1) / G);
        reps.rec = malloc(reps.width * sizeof *reps.rec);
        reps.all = malloc((size_t)G * reps.width * sizeof *reps.all);
        if (!reps.rec || !reps.all)
            die_runtime("out of memory");
        reps.user_stop = rc0->stop ? rc0->stop : &reps.group_stop;
        MPI_Comm_split(MPI_COMM_WORLD, g, mpi.rank, &reps.group);
        rc.replica_parts = G;
        rc.replica_part = j;
        rc.replica_gather = reps_gather;
        rc.replica_swap = reps_swap;
        rc.replica_user = &reps;
        rc.stop = &reps.group_stop;
        /* rounds: a group's ranks end a round together (a gather every iteration keeps them
         * in lockstep) and meet every other rank at round_check, where the group's first
         * rank's draws (replica 1's) stand for the chain, as rows over ranks do below; the
         * same proviso holds: no rank of a group may leave its run alone between a round's
         * last gather and round_check, and nothing fails there */
        if (rc0->max_seconds > 0)
            rounds_setup(&rounds, &rc, rc0, M, mo.reporting);
    } else if (!by_rows) {
        rc.chain_lo = (int)((long)mpi.rank * M / R);
        rc.chain_hi = (int)((long)(mpi.rank + 1) * M / R);
        if (rc0->max_seconds > 0)
            rounds_setup(&rounds, &rc, rc0, M, 1);
    } else {
        /* group g runs chain g; its j-th rank holds rows j n / G .. (j + 1) n / G - 1 */
        int G = R / M, g = mpi.rank / G, j = mpi.rank % G;
        size_t n = train->n, lo = (size_t)j * n / (size_t)G, hi = (size_t)(j + 1) * n / (size_t)G;
        rc.chain_lo = g;
        rc.chain_hi = g + 1;
        mo.reporting = j == 0;   /* the group's ranks hold the same draws: its first reports */
        /* the progress ticks run beside the chain's thread, which is in MPI */
        mo.ticks_mpi = mpi.thread_level >= MPI_THREAD_MULTIPLE;
        if (n < (size_t)G) {
            st = bnn_fail(err, BNN_EINVAL, "rows over ranks: %zu training rows for %d ranks per "
                          "chain (each rank needs a row)", n, G);
        } else {
            view = *train;
            view.n = hi - lo;
            view.x = train->x + lo * train->p;
            view.y = train->y + lo;
            view.line = train->line + lo;
            bnn_model_spec ssp = *bnn_model_get_spec(m);
            ssp.center = ssp.axes = 0;   /* the sum of the slices is the model's own density */
            st = bnn_model_new(&slice, &ssp, &view, err);
            if (st) {   /* the bounds of a flat prior or of nu1 hold per slice too */
                char why[sizeof err->msg];
                snprintf(why, sizeof why, "%s", err->msg);
                bnn_fail(err, st, "rows over ranks: the slice of rows %zu..%zu: %s", lo + 1, hi,
                         why);
            }
        }
        if (!st && mpi.thread_level < MPI_THREAD_SERIALIZED)
            st = bnn_fail(err, BNN_EINVAL, "rows over ranks: this MPI gives no thread support "
                          "(MPI_THREAD_SERIALIZED at least is needed)");
        int code = agree_setup(st, err);   /* before the split: a collective of every rank */
        if (code) {
            mpi.phase = PHASE_DONE;
            exit(code);
        }
        rows.part = bnn_model_density(slice);
        rows.slice = slice;
        rows.G = G;
        rows.dim = d->dim;
        rows.user_stop = rc0->stop ? rc0->stop : &rows.group_stop;
        MPI_Comm_split(MPI_COMM_WORLD, g, mpi.rank, &rows.group);
        dd = (bnn_density){.dim = d->dim, .n_weights = d->n_weights,
                           .work_len = rows.part.work_len + 2 * d->dim + RED_GRAD,
                           .logp = rows_logp, .ctx = &rows};
        rc.stop = &rows.group_stop;
        /* rounds: each group's ranks finish a round together (their reductions keep them in
         * lockstep) and meet every other rank at round_check, where the group's first
         * rank's draws stand for the chain; the chain's thread is idle there. This holds
         * while no rank can leave its run alone between a round's last reduction and
         * round_check (it would wait in rows_leave, its partners in round_check): nothing
         * fails there today (adaptation ends before the rounds, no checkpoints under MPI) */
        if (rc0->max_seconds > 0)
            rounds_setup(&rounds, &rc, rc0, M, mo.reporting);
    }
    mo.chains_here = rc.chain_hi - rc.chain_lo;
    mo.chains_all = M;
    rc.progress = on_tick;
    rc.progress_user = &mo;
    if (!(rc.progress_interval > 0))
        rc.progress_interval = 1.0;
    if (mpi.rank == 0) {
        mo.iter_done = calloc((size_t)R, sizeof *mo.iter_done);
        mo.accepted = calloc((size_t)R, sizeof *mo.accepted);
        mo.done = calloc((size_t)R, sizeof *mo.done);
        if (!mo.iter_done || !mo.accepted || !mo.done)
            die_runtime("out of memory");
    }
    bnn_draws *mine = NULL;
    st = bnn_run(&dd, &rc, &mine, err);
    if (by_rows)
        rows_leave(&rows, st != BNN_OK && st != BNN_EINTR);
    if (by_reps)
        reps_leave(&reps, st != BNN_OK && st != BNN_EINTR);
    post_done(&mo, st, err);
    if (rc.converged == round_check)   /* after DONE: see post_done */
        rounds_leave(&rounds, st == BNN_EINTR);
    int code = finish(&mo);
    bnn_draws_free(rounds.whole);   /* the last check's: the end is gathered whole */
    bnn_status all_st = st;
    if (!code) {
        int reporting = mo.reporting && mine;
        announce(reporting);
        bnn_draws *whole = gather(mine, reporting, M, NULL, 0, 0);
        mpi.phase = PHASE_DONE;
        if (mpi.rank == 0) {
            /* stopped anywhere (Ctrl-C): the run is partial, as bnn_run says of a stop */
            int partial = whole->n_iter_done < rc0->n_iter || rounds.stopped;
            all_st = partial ? BNN_EINTR : BNN_OK;
            if (partial)
                bnn_fail(err, BNN_EINTR, "run: stopped after %zu of %zu iterations per chain",
                         whole->n_iter_done, rc0->n_iter);
            *out = whole;
        }
    }
    mpi.phase = PHASE_DONE;
    bnn_draws_free(mine);
    bnn_model_free(slice);
    if (by_rows)
        MPI_Comm_free(&rows.group);
    if (by_reps)
        MPI_Comm_free(&reps.group);
    free(reps.rec);
    free(reps.all);
    free(mo.iter_done);
    free(mo.accepted);
    free(mo.done);
    if (code || mpi.rank != 0)
        exit(code);   /* rank 0 has written the failure, or holds the draws */
    return all_st;
}

#else /* no MPI: one process */

void ranks_init(int *argc, char ***argv, const char *command)
{
    (void)argc;
    (void)argv;
    (void)command;
}

int ranks_root(void)
{
    return 1;
}

int ranks_size(void)
{
    return 1;
}

void ranks_sample_defaults(sample_opts *o)
{
    (void)o;
}

void ranks_sample_options(sample_opts *o)
{
    (void)o;
}

bnn_status ranks_run(const bnn_model *m, const bnn_table *train, const bnn_density *d,
                     const bnn_run_config *rc, bnn_draws **out, bnn_error *err)
{
    (void)m;
    (void)train;
    return bnn_run(d, rc, out, err);
}

#endif
