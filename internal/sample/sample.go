package sample

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"balise/internal/index"
	"balise/internal/source"
	"balise/internal/text"
)

//go:embed paris.ndjson.gz
var paris []byte

// Data returns the embedded sample (gzip-compressed Addok ndjson).
func Data() []byte { return paris }

// Name is how the sample is referred to in the index meta.
const Name = "bundled sample: Paris (BAN, Licence Ouverte 2.0 / ODbL)"

// Path returns where the sample index lives, building it first if needed.
// The file name carries a hash of the data and the format version, so a new
// balise or new sample data never reuses a stale file.
func Path(ctx context.Context, cacheDir string) (string, error) {
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			d = os.TempDir()
		}
		cacheDir = filepath.Join(d, "balise")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create the cache directory %q: %w", cacheDir, err)
	}
	sum := crc32.ChecksumIEEE(paris)
	path := filepath.Join(cacheDir, fmt.Sprintf("sample-paris-v%d-%08x.balise", index.FormatVersion, sum))
	if ix, err := index.Open(path, index.OpenOptions{Verify: true}); err == nil {
		ix.Close()
		return path, nil
	}
	if err := Build(ctx, path); err != nil {
		return "", err
	}
	return path, nil
}

// Build writes the sample index to path.
func Build(ctx context.Context, path string) error {
	lines, err := source.NewLines(bytes.NewReader(paris), int64(len(paris)))
	if err != nil {
		return err
	}
	defer lines.Close()
	b, err := index.NewBuilder(path, index.BuildOptions{
		Text:    text.Config{Profile: text.ProfileFrench},
		Sources: []string{Name},
	})
	if err != nil {
		return err
	}
	_, err = b.Build(ctx, index.FromLines(lines), func(line int, err error) error {
		return fmt.Errorf("sample line %d: %w", line, err)
	})
	return err
}
