package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"balise/internal/search"
)

func init() {
	register(command{"search", "geocode a query (or one query per line from stdin with -) and print GeoJSON", runSearch})
	register(command{"reverse", "reverse-geocode a point and print GeoJSON", runReverse})
}

func filterFlags(fs *flag.FlagSet) map[string]*multiFlag {
	m := map[string]*multiFlag{}
	for _, name := range []string{"type", "postcode", "citycode"} {
		v := &multiFlag{}
		fs.Var(v, name, "filter on "+name+" (repeat, or separate values with spaces, for OR)")
		m[name] = v
	}
	return m
}

func collectFilters(e *search.Engine, m map[string]*multiFlag) []search.Filter {
	var out []search.Filter
	for _, name := range e.Filters() {
		v := m[name]
		if v == nil || len(*v) == 0 {
			continue
		}
		var vals []string
		for _, s := range *v {
			vals = append(vals, strings.Fields(s)...)
		}
		out = append(out, search.Filter{Name: name, Values: vals})
	}
	return out
}

func runSearch(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	indexPath := fs.String("index", "", "index `file` (default: the bundled Paris sample)")
	limit := fs.Int("limit", 5, "maximum number of results (1..100)")
	autocomplete := fs.Bool("autocomplete", false, "treat the last word as a prefix (the HTTP API's default is on)")
	lat := fs.Float64("lat", 0, "latitude of a point to favour (with --lon)")
	lon := fs.Float64("lon", 0, "longitude of a point to favour (with --lat)")
	filters := filterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: balise search [flags] QUERY   (or - to read one query per line from stdin)")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"no query"}
	}
	if *limit < 1 || *limit > 100 {
		return usageError{"--limit must be between 1 and 100"}
	}
	hasCenter := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "lat" || f.Name == "lon" {
			hasCenter = true
		}
	})
	e, err := openEngine(ctx, *indexPath, "", search.DefaultConfig(), false)
	if err != nil {
		return err
	}
	defer e.Index().Close()
	meta := e.Index().Meta()
	fl := collectFilters(e, filters)
	answer := func(q string) ([]byte, error) {
		res, err := e.Search(ctx, search.Query{Q: q, Limit: *limit, Autocomplete: *autocomplete, HasCenter: hasCenter, Lat: *lat, Lon: *lon, Filters: fl})
		if err != nil {
			return nil, err
		}
		env := search.Envelope{Attribution: meta.Attribution, Licence: meta.Licence, HasQuery: true, Query: q, Filters: fl,
			HasCenter: hasCenter && *lat != 0 && *lon != 0, Lat: *lat, Lon: *lon, HasLimit: true, Limit: *limit}
		return search.AppendFeatureCollection(nil, env, res), nil
	}
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	if fs.NArg() == 1 && fs.Arg(0) == "-" {
		sc := bufio.NewScanner(env.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out, err := answer(sc.Text())
			if err != nil {
				// One bad line must not stop a script: answer it with an error object.
				fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
				continue
			}
			w.Write(out)
			w.WriteByte('\n')
		}
		return sc.Err()
	}
	out, err := answer(strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	w.Write(out)
	w.WriteByte('\n')
	return nil
}

func runReverse(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("reverse", flag.ContinueOnError)
	indexPath := fs.String("index", "", "index `file` (default: the bundled Paris sample)")
	limit := fs.Int("limit", 1, "maximum number of results")
	lat := fs.Float64("lat", 0, "latitude (required)")
	lon := fs.Float64("lon", 0, "longitude (required)")
	radius := fs.Float64("radius", 0, "search radius in metres (0: Addok's neighbouring cells)")
	filters := filterFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	seen := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { seen[f.Name] = true })
	if !seen["lat"] || !seen["lon"] {
		return usageError{"--lat and --lon are required"}
	}
	if *lat < -90 || *lat > 90 || *lon < -180 || *lon > 180 {
		return usageError{"--lat must be in [-90, 90] and --lon in [-180, 180]"}
	}
	e, err := openEngine(ctx, *indexPath, "", search.DefaultConfig(), false)
	if err != nil {
		return err
	}
	defer e.Index().Close()
	fl := collectFilters(e, filters)
	res, err := e.Reverse(ctx, search.ReverseQuery{Lat: *lat, Lon: *lon, Limit: *limit, Filters: fl, Radius: *radius})
	if err != nil {
		return err
	}
	meta := e.Index().Meta()
	out := search.AppendFeatureCollection(nil, search.Envelope{Attribution: meta.Attribution, Licence: meta.Licence, Filters: fl, HasLimit: true, Limit: *limit}, res)
	out = append(out, '\n')
	_, err = io.Writer(env.Stdout).Write(out)
	return err
}
