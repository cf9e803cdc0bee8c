package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Env gives commands their I/O and environment.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// commands is filled by the init function of each command's file (serve.go,
// geocode.go…), which calls register.
var commands []command

func register(c command) { commands = append(commands, c) }

// usageError makes Run exit with code 2 (bad invocation) instead of 1.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run executes one balise command and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, env, args[1:])
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(env.Stderr, "balise %s: %v\n", c.name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "balise: unknown command %q (see balise help)\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "balise — an Addok-compatible geocoder\n\nUsage: balise COMMAND [flags] [args]\n\nCommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as an environment variable: --redis-url is BALISE_REDIS_URL.\nRun balise COMMAND -h for a command's flags.")
}

// parseFlags applies BALISE_* environment variables, then the command line
// (which wins).
func parseFlags(fs *flag.FlagSet, args []string, env Env) error {
	fs.SetOutput(env.Stderr)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "BALISE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, from, err := envValue(env, name)
		if err != nil && envErr == nil {
			envErr = usageError{err.Error()}
		}
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil && envErr == nil {
			// The value may be a secret: name where it came from, not it.
			envErr = usageError{fmt.Sprintf("invalid %s: %v", from, err)}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// envValue reads a flag's environment variable, or the file named by the
// variable with a _FILE suffix (how container platforms hand out secrets:
// a --redis-url holding a password need never be on a command line, which
// other local users and /debug/pprof/cmdline can read). The file's
// content is trimmed of surrounding white space.
func envValue(env Env, name string) (value, from string, err error) {
	if v := env.Getenv(name); v != "" {
		return v, name, nil
	}
	path := env.Getenv(name + "_FILE")
	if path == "" {
		return "", "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("cannot read %s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), name + "_FILE (" + path + ")", nil
}

// multiFlag collects a repeatable flag; each occurrence may hold several
// space-separated values (like Addok's "type=street city").
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, " ") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
