package server

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// A CSV upload that pauses gets the answers to every row geocoded so far
// while it stays open, compressed or not: the job pushes its output through
// the compressor and the server's buffer before it waits for more rows.
// Before, a gzip or zstd answer stayed in the compressor until its buffer
// filled: nothing at all came back for this upload.
func TestCSVAnswersWhileUploadPauses(t *testing.T) {
	e, ix := testEngine(t, "rue des avions")
	url, _, _ := start(t, DefaultConfig(), NewHolder(e, ix.Close), quietLog())
	// Past the 64 KiB balise reads before it answers (delimiter and
	// encoding detection). Rows are geocoded by chunks of 256 (the batch
	// default: this server has no admission control, which makes them 32).
	const rows, chunkRows = 5000, 256
	for _, enc := range []string{"identity", "gzip", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest("POST", url+"/search/csv?columns=a", pr)
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Accept-Encoding", enc) // set by hand: the client leaves the body encoded
			answers := make(chan *http.Response, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					close(answers)
					return
				}
				answers <- resp
			}()
			if _, err := io.WriteString(pw, "a\n"+strings.Repeat("rue des avions\n", rows)); err != nil {
				t.Fatal(err)
			}
			var resp *http.Response
			select {
			case resp = <-answers:
			case <-time.After(5 * time.Second):
				t.Fatalf("no answer within 5 s of %d rows, the upload open", rows)
			}
			if resp == nil {
				return
			}
			defer resp.Body.Close()
			lines := answerLines(t, resp, enc)
			// The last partial chunk waits for more input or the end of
			// the upload; every complete one must be answered.
			got, want := 0, rows/chunkRows*chunkRows
			for got < want {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatalf("answer ended after %d rows, the upload open", got)
					}
					if strings.HasSuffix(line, ";ok\r\n") {
						got++
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%d of %d rows answered within 5 s, the upload open (Content-Encoding %q)",
						got, want, resp.Header.Get("Content-Encoding"))
				}
			}
			pw.Close()
			for line := range lines {
				if strings.HasSuffix(line, ";ok\r\n") {
					got++
				}
			}
			if got != rows {
				t.Errorf("%d rows answered in all, want %d", got, rows)
			}
		})
	}
}

// answerLines decodes the answer (as its Content-Encoding says) and sends
// its lines as they come; the channel closes at the end.
func answerLines(t *testing.T, resp *http.Response, enc string) <-chan string {
	t.Helper()
	if got := resp.Header.Get("Content-Encoding"); enc != "identity" && got != enc {
		t.Fatalf("Content-Encoding %q, want %q", got, enc)
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		var body io.Reader = resp.Body
		switch enc {
		case "gzip":
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				out <- fmt.Sprintf("gzip: %v", err)
				return
			}
			body = zr
		case "zstd":
			zr, err := zstd.NewReader(resp.Body)
			if err != nil {
				out <- fmt.Sprintf("zstd: %v", err)
				return
			}
			defer zr.Close()
			body = zr
		}
		br := bufio.NewReader(body)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				out <- line
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}
