/* ranks.h — `bnnmc sample` over MPI ranks (ranks.c, the command line's only MPI code; the
 * library knows nothing of MPI).
 *
 * Started by mpirun with R ranks for a run of M chains:
 * - R <= M, chains over ranks: rank r runs chains r M / R .. (r + 1) M / R - 1, each exactly
 *   as the threaded run would (bnn_run_config.chain_lo, chain_hi), so the draws are bitwise
 *   the threaded run's with the same seed; rank 0 gathers every chain's draws and writes the
 *   run folder as the threaded run does. With --max-time the ranks meet after each round
 *   and rank 0's check on every chain's draws decides for all (the time limit applies
 *   between rounds only).
 * - R > M (R a multiple of M), rows over ranks: each chain is run by a group of G = R / M
 *   ranks, each holding 1 / G of the training rows; the group's log density is the prior
 *   plus the sum (MPI_Allreduce) of the row slices' log-likelihoods, and likewise its
 *   gradient. The same posterior as one process, not bitwise (the sum's order differs).
 *   For pt, replicas over ranks instead: each chain's group of G ranks splits the chain's
 *   K replicas in contiguous blocks (G <= K), every rank keeping the whole chain's stream
 *   and exchange decisions (bnn_run_config.replica_parts); bitwise the threaded run.
 * Rank 0 does the talking: other ranks wait until rank 0 has read the options and the data
 * and prepared the run folder (so an input error is reported once, by rank 0), then run
 * their part silently; a chain's failure on any rank is reported once, by rank 0, and every
 * rank exits with its status. A build without MPI, or a process not started by mpirun, runs
 * as one process: every function here is then the plain behaviour.
 */
#ifndef BNNMC_CLI_RANKS_H
#define BNNMC_CLI_RANKS_H

#include "bnnmc.h"
#include "sample_opts.h"

/* main, first: starts MPI when mpirun started this process among several. Rank 0 goes on
 * with the command; the others wait for it here and, unless the command is `sample` and
 * rank 0 reaches its run, exit with rank 0's exit status. Commands that sample but do not
 * spread over ranks (resume, extend, demo, variational) are refused (exit 2). */
void ranks_init(int *argc, char ***argv, const char *command);
/* 1 on rank 0 (and without MPI): the rank that reads the user's folder and writes it. */
int ranks_root(void);
/* cmd_sample, before parsing: under MPI, checkpoints default to off. */
void ranks_sample_defaults(sample_opts *o);
/* cmd_sample, after parsing: refuses (exit 2, one line) what MPI does not run:
 * --max-time with pt's replicas over ranks, checkpoints, a rank count above the chains
 * that is not a multiple of them,
 * for rows over ranks a sampler that does not go through the log density alone, and for
 * pt's replicas over ranks more ranks per chain than replicas. Other ranks than 0 are
 * quiet. */
void ranks_sample_options(sample_opts *o);
/* bnn_run over the ranks (bnn_run itself without MPI). m is the model whose density d is
 * (rows over ranks builds its row slice from m's training table). On rank 0 it returns
 * every chain's draws, as bnn_run does; other ranks exit inside it once rank 0 has their
 * draws. A failure on any rank is reported by rank 0 and ends every rank (exit 1 or 2). */
bnn_status ranks_run(const bnn_model *m, const bnn_table *train, const bnn_density *d,
                     const bnn_run_config *rc, bnn_draws **out, bnn_error *err);
/* The number of ranks (1 without MPI), for config.json. */
int ranks_size(void);

#endif
