/* cmd_diagnose.c — `bnnmc diagnose FILE.csv...`: R-hat, ESS and MCSE of every column of
 * CmdStan-format draws (bnnmc's chains or Stan's own), the worst first, with the sampler's
 * health. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "chain_summary.h"
#include "commands.h"
#include "rundir.h"
#include "util.h"

static int read_chains(char **paths, size_t M, stan_csv *ch)
{
    char err[512];
    for (size_t c = 0; c < M; c++)
        if (stan_csv_read(paths[c], &ch[c], err, sizeof err) != 0) {
            fprintf(stderr, "bnnmc: %s\n", err);
            for (size_t d = 0; d < c; d++)
                stan_csv_free(&ch[d]);
            return -1;
        }
    return 0;
}

static const char diagnose_usage[] =
    "usage: bnnmc diagnose FILE.csv... [--csv] [--json] [--all]\n"
    "\n"
    "R-hat (rank-normalised split, and the study's Gelman-Rubin), bulk and tail ESS and\n"
    "MCSE of every column of CmdStan-format CSV files, one file per chain: bnnmc's\n"
    "chain-N.csv or Stan's own output. The worst parameters are listed first.\n"
    "  --csv    print the columns of summary.csv instead of a table\n"
    "  --json   print JSON (also the MCSE of sd and of the 5/50/95% quantiles, basic ESS\n"
    "           and split R-hat)\n"
    "  --all    list every parameter (default: the 25 worst)\n";

int cmd_diagnose(int argc, char **argv)
{
    static const struct option longopts[] = {{"csv", no_argument, 0, 'c'}, {"json", no_argument, 0, 'j'},
                                              {"all", no_argument, 0, 'a'}, {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    int csv = 0, json = 0, all = 0, c;
    optind = 1;
    while ((c = next_option("diagnose", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'c': csv = 1; break;
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': fputs(diagnose_usage, stdout); return 0;
        }
    }
    size_t M = (size_t)(argc - optind);
    if (M == 0)
        die_usage("diagnose", "give one CSV file per chain");
    stan_csv *ch = calloc(M, sizeof *ch);
    if (!ch || read_chains(argv + optind, M, ch) != 0) {
        free(ch);
        return EXIT_USAGE;
    }
    summary_set s;
    char err[512];
    if (summarise_chains(ch, M, cpu_count(), &s, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc diagnose: %s\n", err);
        summary_set_free(&s);
        for (size_t i = 0; i < M; i++)
            stan_csv_free(&ch[i]);
        free(ch);
        return EXIT_USAGE;
    }
    size_t params, rb, eb;
    count_bad(&s, &params, &rb, &eb);
    if (csv) {
        put_summary_csv(stdout, s.names, s.s, s.k);
    } else if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "chains", (double)s.M);
        cJSON_AddNumberToObject(root, "draws_per_chain", (double)s.N);
        cJSON_AddNumberToObject(root, "warmup_draws_left_out", (double)s.warmup);
        cJSON_AddNumberToObject(root, "divergent", (double)s.divergent);
        cJSON_AddNumberToObject(root, "max_treedepth_hits", (double)s.depth_hits);
        if (s.has_energy) {
            cJSON *arr = cJSON_AddArrayToObject(root, "ebfmi");
            for (size_t i = 0; arr && i < s.M; i++)
                cJSON_AddItemToArray(arr, isnan(s.ebfmi[i]) ? cJSON_CreateNull() : cJSON_CreateNumber(s.ebfmi[i]));
        }
        cJSON_AddNumberToObject(root, "parameters_rhat_above_1_01", (double)rb);
        cJSON_AddNumberToObject(root, "parameters_ess_below_100_per_chain", (double)eb);
        cJSON_AddItemToObject(root, "parameters", summary_json(&s));
        print_json(root);
        cJSON_Delete(root);
    } else {
        printf("%zu chains x %zu draws%s", s.M, s.N, s.partial ? " (a PARTIAL run)" : "");
        if (s.warmup)
            printf(" after warm-up (%zu warm-up rows left out)", s.warmup);
        printf("\n\n");
        print_table(&s, all ? s.k : 25);
        printf("\n");
        print_health(&s);
        printf("%zu of %zu parameters have R-hat > 1.01; %zu have bulk or tail ESS below 100 per "
               "chain.\n", rb, params, eb);
    }
    summary_set_free(&s);
    for (size_t i = 0; i < M; i++)
        stan_csv_free(&ch[i]);
    free(ch);
    return 0;
}
