/* slopnctl with no command: an interactive shell on GNU readline, with
 * history in ~/.slopnctl_history and completion from the same code as the
 * shells' completion scripts. Each command opens its own connection, so an
 * idle shell holds nothing open on the daemon. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "ctl/slopnctl.h"

#define HISTORY_LINES 1000
#define MAX_WORDS 64

/* Split a line into words as a POSIX shell does: blanks separate, '...'
 * and "..." group; \ escapes any character outside quotes, none inside
 * '...', and inside "..." only $ ` " \ (else it stays: "C:\new" is
 * C:\new). Words are written into out (a copy of the line's size).
 * Returns the count, -1 on an unclosed quote, -2 over max words. */
static int split_words(const char *line, char *out, char **words, int max)
{
	int n = 0;
	const char *p = line;
	char *o = out;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -2;
		words[n++] = o;
		char quote = 0;
		while (*p && (quote || (*p != ' ' && *p != '\t'))) {
			if (quote && *p == quote)
				quote = 0, p++;
			else if (!quote && (*p == '\'' || *p == '"'))
				quote = *p++;
			else if (*p == '\\' && p[1] && (!quote || (quote == '"' && strchr("$`\"\\", p[1]))))
				p++, *o++ = *p++;
			else
				*o++ = *p++;
		}
		if (quote)
			return -1;
		*o++ = '\0';
	}
}

/* ---- completion ---- */

struct cands {
	char **v;
	size_t n, cap;
};

static void collect(const char *cand, void *ctx)
{
	struct cands *c = ctx;
	if (c->n + 2 > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		char **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return;
		c->v = v, c->cap = cap;
	}
	c->v[c->n++] = strdup(cand);
}

static struct cands current;
static size_t current_next;

static char *generator(const char *text, int state)
{
	(void)text;
	if (!state)
		current_next = 0;
	return current_next < current.n ? strdup(current.v[current_next++]) : NULL;
}

static const char *const shell_words[] = {"help", "quit", "exit", NULL};

static char **attempt(const char *text, int start, int end)
{
	(void)end;
	for (size_t i = 0; i < current.n; i++)
		free(current.v[i]);
	current.n = 0;
	/* The words before the one being completed, then that one. */
	char *before = strndup(rl_line_buffer, (size_t)start);
	char *buf = before ? malloc(strlen(before) + 1) : NULL;
	char *words[MAX_WORDS + 1];
	int n = buf ? split_words(before, buf, words, MAX_WORDS) : -1;
	if (n >= 0) {
		words[n] = (char *)text;
		const char *saved = sock_path;
		complete_words(n + 1, words, collect, &current);
		sock_path = saved; /* a --socket typed on the line is for that line only */
		if (n == 0)
			for (const char *const *w = shell_words; *w; w++)
				if (!strncmp(*w, text, strlen(text)))
					collect(*w, &current);
	}
	free(before);
	free(buf);
	rl_attempted_completion_over = 1; /* never fall back to file names */
	return rl_completion_matches(text, generator);
}

/* ---- the loop ---- */

static volatile sig_atomic_t running; /* a command, which Ctrl-C stops */
static bool tty_out;
/* SIGHUP or SIGTERM at a terminal (the window closed), SIGQUIT (Ctrl-\),
 * SIGALRM: the shell ends as at Ctrl-D, its history kept and the terminal
 * as it was, then dies of the signal. */
static volatile sig_atomic_t end_sig;
static volatile sig_atomic_t suspend; /* Ctrl-Z at the prompt */
/* The terminal hung up, though no SIGHUP may come (it is not the shell's
 * controlling terminal): reads find nothing for ever. */
static bool term_gone;

/* The end of a paste, for an interrupt in one: readline reads a paste
 * (bracketed paste mode) to this end in one go, and takes no other (after
 * an end of input there it reads past its text, in readline 8.2). */
static const char paste_end[] = "\x1b[201~";
static const char *feeding; /* keys read_key gives before the terminal's */

/* Readline handles no signals here (rl_catch_signals 0): its handler
 * acted inside rl_callback_read_char, where a Ctrl-C in a history search
 * freed the search it was in (a use after free), and it waited in its own
 * read(2) for a key the terminal had thrown away. These only set flags;
 * the prompt acts on them between keys (prompt_line). */
static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
	/* The terminal echoed ^C: what the command says next, or the prompt,
	 * begins a line of its own. At the prompt drop_line does that. */
	if (running && tty_out) {
		int e = errno;
		ssize_t n = write(STDOUT_FILENO, "\n", 1);
		(void)n;
		errno = e;
	}
}

static void on_end(int sig)
{
	end_sig = sig;
	interrupted = 1; /* a command under way stops */
}

static void on_tstp(int sig)
{
	(void)sig;
	suspend = 1;
}

/* SIGTSTP as slopnctl got it: ignored by its caller, Ctrl-Z does nothing. */
static bool tstp_ignored;

/* fn for sig, unless slopnctl's caller ignores it (nohup, a shell's
 * background job without job control): that stays, as readline's own
 * handlers leave it. */
static void catch(int sig, void (*fn)(int))
{
	struct sigaction sa = {.sa_handler = fn}, was;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, NULL, &was) == 0 && was.sa_handler == SIG_IGN)
		return;
	sigaction(sig, &sa, NULL);
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "%s/.slopnctl_history", home) < 0)
		return NULL;
	return p;
}

/* ---- the prompt ---- */

#define PROMPT "slopn> "

/* The line readline gave (NULL: Ctrl-D), once given. */
static char *typed;
static bool typed_done;

static void on_line(char *line)
{
	typed = line;
	typed_done = true;
	rl_callback_handler_remove(); /* the terminal as it was, for the command */
}

/* Ctrl-C at the prompt drops the line typed, never to be run (someone who
 * typed 'token remove alice' and thought better of it), and shows a fresh
 * prompt, as bash does; a search or a key sequence under way ends. */
static void drop_line(void)
{
	interrupted = 0;
	feeding = NULL;
	rl_echo_signal_char(SIGINT);
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_callback_handler_remove();
	putchar('\n');
	fflush(stdout);
	rl_callback_handler_install(PROMPT, on_line);
}

/* Ctrl-Z at the prompt: the terminal as it was while stopped, readline's
 * again and the line shown again after. */
static void stop_here(void)
{
	suspend = 0;
	rl_cleanup_after_signal();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	catch(SIGTSTP, on_tstp);
	rl_reset_after_signal();
	rl_forced_update_display();
}

/* SLOPNCTL_TEST_KEY_DELAY_MS: read_key waits this long before it reads,
 * as a loaded machine may between a wait that saw a key and its read
 * (shell.sh); 0 in use. */
static unsigned long key_delay_ms;

/* Until stdin has a key or hung up: its poll events, or -1 (errno EINTR
 * after a signal). All signals are blocked but for the wait, so that one
 * that came before it ends it, not the next key. */
static int wait_key(void)
{
	sigset_t all, saved;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	int n = -1, e = EINTR;
	if (!interrupted && !suspend && !rl_pending_signal()) {
		n = ppoll(&p, 1, NULL, &saved);
		e = errno;
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	errno = e;
	return n > 0 ? p.revents : n;
}

/* Ctrl-C as a key, for readline to return on: with the terminal's ISIG on,
 * as readline keeps it, the key itself never comes; it does nothing
 * (key_nothing), and prompt_line then drops the line. */
#define KEY_INTERRUPTED 3

static int key_nothing(int count, int key)
{
	(void)count, (void)key;
	return 0;
}

/* A wait's poll events: the terminal hung up? */
static bool gone(int ev)
{
	if (ev > 0 && (ev & (POLLHUP | POLLERR | POLLNVAL)))
		term_gone = true;
	return term_gone;
}

/* Readline's key reader. The terminal throws away the keys not yet read
 * when it sends SIGINT: a read(2) after a wait that saw one would then wait
 * for the next key, the line neither dropped nor a prompt shown. So the
 * terminal returns from a read without a key (VMIN 0, prep_terminal), and
 * this waits itself, where a signal ends the wait. An interrupt or the end
 * of input in a paste ends the paste first, and the line is dropped after
 * (or the shell ends). */
static int read_key(FILE *in)
{
	(void)in;
	for (;;) {
		if (feeding && *feeding)
			return (unsigned char)*feeding++;
		bool end = end_sig || term_gone;
		if (interrupted || end) {
			if (RL_ISSTATE(RL_STATE_MOREINPUT)) {
				feeding = paste_end;
				return (unsigned char)*feeding++;
			}
			return end ? EOF : KEY_INTERRUPTED;
		}
		if (key_delay_ms) {
			struct timespec d = {key_delay_ms / 1000, (long)(key_delay_ms % 1000) * 1000000};
			nanosleep(&d, NULL);
		}
		unsigned char c;
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n == 1)
			return c;
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			term_gone = true; /* EIO: the terminal went */
			continue;
		}
		int ev = wait_key();
		if (gone(ev) || (ev < 0 && errno != EINTR)) {
			term_gone = true;
			continue;
		}
		if (suspend)
			stop_here();
		if (rl_pending_signal()) /* a resized window, readline's own */
			rl_check_signals();
	}
}

/* The terminal as readline sets it, but for a read(2) that finds no key,
 * which returns at once (VMIN 0) for read_key to wait. */
static void prep_terminal(int meta)
{
	rl_prep_terminal(meta);
	struct termios t;
	if (tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_cc[VMIN] || t.c_cc[VTIME])) {
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
}

/* A line from the terminal, by readline's callbacks: a blocking readline()
 * keeps the line through a Ctrl-C, and the next Enter would run it. NULL
 * at Ctrl-D or when the terminal went. */
static char *prompt_line(void)
{
	typed = NULL;
	typed_done = false;
	/* The Ctrl-C that stopped the last command was for it, not this
	 * prompt (else a second, empty prompt). */
	interrupted = 0;
	suspend = 0;
	catch(SIGTSTP, on_tstp);
	if (rl_instream && rl_outstream) /* not before readline's first prompt */
		rl_resize_terminal(); /* a window resized during the last command */
	rl_callback_handler_install(PROMPT, on_line);
	while (!typed_done && !end_sig && !term_gone) {
		int ev = wait_key();
		if (ev > 0 && !gone(ev)) {
			rl_callback_read_char();
		} else if (ev < 0 && errno != EINTR) {
			fprintf(stderr, "slopnctl: waiting for the terminal: %s\n", strerror(errno));
			break;
		}
		if (suspend && !typed_done)
			stop_here();
		rl_check_signals(); /* a resized window */
		if (interrupted && !typed_done && !end_sig)
			drop_line();
	}
	if (!typed_done) {
		rl_callback_handler_remove(); /* the terminal as it was */
		typed = NULL;
	}
	if (!tstp_ignored)
		signal(SIGTSTP, SIG_DFL); /* a command stops as any program */
	if (suspend) { /* Ctrl-Z as Enter was read: for the shell, now */
		suspend = 0;
		raise(SIGTSTP);
	}
	return typed;
}

/* The last piped line held a NUL byte: it is not run. */
static bool line_has_nul;

/* Why reading piped commands failed (0: it did not, or the end of input). */
static int read_errno;

/* A line without its newline (or CRLF), malloc'd; NULL at the end of
 * input, or when reading failed (read_errno, said). Piped commands are read
 * plainly: no prompt, no echo, no history. */
static char *next_line(bool tty)
{
	if (tty)
		return prompt_line();
	char *l = NULL;
	size_t cap = 0;
	ssize_t got;
	for (;;) {
		errno = 0;
		if ((got = getline(&l, &cap, stdin)) >= 0)
			break;
		int e = errno;
		free(l);
		l = NULL;
		if (!ferror(stdin))
			return NULL; /* the end of input */
		clearerr(stdin);
		if (e == EINTR) /* a signal with a handler (none for SIGINT here): read on */
			continue;
		read_errno = e ? e : EIO;
		fprintf(stderr, "slopnctl: reading commands from standard input: %s; the rest is not run\n",
		        strerror(read_errno));
		return NULL;
	}
	size_t len = strlen(l);
	/* A NUL byte would end the line early, and a shorter command run. */
	line_has_nul = (ssize_t)len != got;
	if (len && l[len - 1] == '\n')
		l[--len] = '\0';
	if (len && l[len - 1] == '\r') /* a file written on Windows, or sent by a network tool */
		l[--len] = '\0';
	return l;
}

int shell_run(void)
{
	char *hist = history_path();
	using_history();
	stifle_history(HISTORY_LINES);
	if (hist)
		read_history(hist);
	rl_readline_name = "slopnctl";
	rl_attempted_completion_function = attempt;
	rl_completer_quote_characters = "'\"";
	/* Words split at blanks and quotes only: token names hold '@', IPv6
	 * addresses ':', and readline's default breaks would cut them. */
	static char breaks[] = " \t\n\"'";
	rl_completer_word_break_characters = breaks;
	bool tty = isatty(STDIN_FILENO);
	tty_out = isatty(STDOUT_FILENO);
	in_shell = true;
	if (tty)
		printf("slopnctl %s on %s; 'help' lists the commands, Ctrl-D leaves\n", SLOPN_VERSION, sock_path);
	/* At a terminal, Ctrl-C stops a running command (monitor, or one
	 * awaiting its answer), not the shell; at the prompt the line is
	 * dropped (prompt_line). Piped commands (a script's) keep SIGINT as it
	 * came: a Ctrl-C ends them all, as it would a script, and the caller
	 * sees it; else the batch ran on, or ended as if its input had,
	 * status 0. */
	if (tty) {
		rl_catch_signals = 0; /* see on_sigint; a resized window is readline's */
		rl_getc_function = read_key;
		rl_prep_term_function = prep_terminal;
		rl_bind_key_in_map(KEY_INTERRUPTED, key_nothing, emacs_standard_keymap);
		rl_bind_key_in_map(KEY_INTERRUPTED, key_nothing, vi_insertion_keymap);
		rl_bind_key_in_map(KEY_INTERRUPTED, key_nothing, vi_movement_keymap);
		struct sigaction was;
		tstp_ignored = sigaction(SIGTSTP, NULL, &was) == 0 && was.sa_handler == SIG_IGN;
		catch(SIGINT, on_sigint);
		catch(SIGHUP, on_end);
		catch(SIGTERM, on_end);
		catch(SIGQUIT, on_end);
		catch(SIGALRM, on_end);
		/* Readline's handler for a resized window stays while the prompt
		 * waits outside rl_callback_read_char (wait_key). */
		rl_persistent_signal_handlers = 1;
		const char *d = getenv("SLOPNCTL_TEST_KEY_DELAY_MS");
		if (d)
			key_delay_ms = strtoul(d, NULL, 10) % 10000;
	}
	/* monitor ignores SIGPIPE for its own end (cmd_monitor.c): the
	 * commands after it get it as slopnctl did, the default or not. */
	struct sigaction pipe_was;
	sigaction(SIGPIPE, NULL, &pipe_was);
	read_errno = 0;
	int rc = 0, status;
	bool quit = false;
	char *line;
	/* A Ctrl-C between Enter and the command's start stops the command:
	 * prompt_line clears the last one, not this loop. */
	while ((line = next_line(tty)) != NULL && !end_sig) {
		char *buf = malloc(strlen(line) + 1);
		char *words[MAX_WORDS];
		int n = !buf ? -1 : line_has_nul ? -3 : split_words(line, buf, words, MAX_WORDS);
		quit = false;
		status = -1; /* none: a blank line, help, quit */
		/* Every line but a blank one, a bad one too: it is there to be
		 * fixed with the up arrow, not typed again. */
		if (tty && line[strspn(line, " \t")])
			add_history(line);
		if (n < 0) {
			/* A line that is no command fails as a usage error. */
			status = EXIT_USAGE;
			if (!buf)
				fprintf(stderr, "slopnctl: out of memory; the line was not run\n"), status = 1;
			else if (n == -1)
				fprintf(stderr, "slopnctl: unclosed quote (a ' or \" without its closing one); "
				        "the line was not run\n");
			else if (n == -3)
				fprintf(stderr, "slopnctl: a NUL byte in the line; the line was not run\n");
			else
				fprintf(stderr, "slopnctl: more than %d words on one line; the line was not run\n",
				        MAX_WORDS);
		} else if (n > 0) {
			/* --json and --socket PATH on a line are for that line only. */
			const char *saved_sock = sock_path;
			bool saved_json = json_out;
			if (!strcmp(words[0], "quit") || !strcmp(words[0], "exit")) {
				quit = true;
			} else if (!strcmp(words[0], "help") || !strcmp(words[0], "?")) {
				shell_usage(stdout);
			} else {
				char *argv[MAX_WORDS + 1] = {"slopnctl"};
				memcpy(argv + 1, words, (size_t)n * sizeof(*words));
				running = 1;
				status = dispatch(n + 1, argv);
				running = 0;
				sigaction(SIGPIPE, &pipe_was, NULL);
			}
			sock_path = saved_sock;
			json_out = saved_json;
			fflush(stdout);
		}
		free(buf);
		free(line);
		line = NULL;
		/* Piped commands exit with the first failure's status, as a
		 * script's caller must see one whatever came after it; at the
		 * terminal, the last command's. */
		if (status >= 0 && (tty || !rc))
			rc = status;
		if (quit)
			break;
	}
	if (!tty) {
		free(hist); /* nothing read from a terminal: no history to keep */
		return rc ? rc : read_errno ? 1 : 0;
	}
	free(line); /* typed as the terminal went: not run */
	if (!quit && !end_sig)
		putchar('\n'); /* after Ctrl-D, leave the terminal on a fresh line */
	if (hist && write_history(hist) != 0)
		fprintf(stderr, "slopnctl: cannot save history to %s: %s\n", hist, strerror(errno));
	free(hist);
	for (size_t i = 0; i < current.n; i++)
		free(current.v[i]);
	free(current.v);
	if (end_sig) { /* the caller sees why the shell ended */
		fflush(stdout);
		signal(end_sig, SIG_DFL);
		raise(end_sig);
	}
	return rc;
}
