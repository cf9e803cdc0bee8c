package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"balise/internal/index"
)

func init() {
	register(command{"info", "print an index file's description (JSON)", runInfo})
	register(command{"verify", "check every checksum and offset of an index file", runVerify})
}

func runInfo(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: balise info INDEX"}
	}
	start := time.Now()
	ix, err := index.Open(fs.Arg(0), index.OpenOptions{})
	if err != nil {
		return err
	}
	defer ix.Close()
	open := time.Since(start)
	out := struct {
		*index.Meta
		FileBytes int                 `json:"file_bytes"`
		OpenMs    float64             `json:"open_ms"`
		Sections  []index.SectionInfo `json:"sections"`
	}{ix.Meta(), ix.Size(), float64(open.Microseconds()) / 1000, ix.Sections()}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func runVerify(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: balise verify INDEX"}
	}
	start := time.Now()
	ix, err := index.Open(fs.Arg(0), index.OpenOptions{Verify: true})
	if err != nil {
		return err
	}
	defer ix.Close()
	fmt.Fprintf(env.Stdout, "%s: OK (%d documents, every checksum and offset verified in %s)\n", fs.Arg(0), ix.NumDocs(), time.Since(start).Round(time.Millisecond))
	return nil
}
