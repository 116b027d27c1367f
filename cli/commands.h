/* commands.h — the bnnmc commands, one cmd_*.c file each; main.c's table dispatches to
 * them. A command takes its own name as argv[0] and returns the exit status. */
#ifndef BNNMC_CLI_COMMANDS_H
#define BNNMC_CLI_COMMANDS_H

int cmd_sample(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_datasets(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_extend(int argc, char **argv);
int cmd_loo(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_variational(int argc, char **argv);

#endif
