//go:build linux

package nginx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// csvResult is what a streamed CSV upload got back.
type csvResult struct {
	status int
	lines  int           // answer lines, header included
	early  time.Duration // when earlyAnswers lines had come, the upload still open
	took   time.Duration
	err    error
}

// csvRow is one row: a real street and a padding cell, so that the upload
// moves well above balise's --csv-min-rate (1000 B/s) at one row per 100 ms.
func csvRow(i int) string {
	streets := []string{"rue de rivoli", "boulevard saint-germain", "avenue de l'opera", "rue du bac"}
	return fmt.Sprintf("%d %s paris,%s\n", 1+i%20, streets[i%len(streets)], strings.Repeat("x", 200))
}

// The rows sent at once at the start of a streamed upload: balise reads
// the first 64 KiB before it answers (encoding and delimiter detection),
// then geocodes and writes chunks of 32 rows; 400 rows of 230 bytes are
// past both.
const (
	leadRows     = 400
	earlyAnswers = 10 // answer lines (header included) required while the upload is open
)

// streamCSV uploads leadRows rows to POST /search/csv at once, without a
// length (chunked), and waits, with the upload still open, for answers to
// come back: that only works if every hop streams the request body and
// the answer (nginx: proxy_request_buffering off, proxy_buffering off).
// Then it sends slow more rows, one every `every`, and reads the rest.
// answered is closed when the early answers have come.
func streamCSV(hc *http.Client, base string, slow int, every time.Duration, answered chan<- struct{}) (res csvResult) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest("POST", base+"/search/csv?columns=q", pr)
	if err != nil {
		return csvResult{err: err}
	}
	req.Header.Set("Content-Type", "text/csv")
	type answer struct {
		resp *http.Response
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := hc.Do(req)
		answers <- answer{resp, err}
	}()
	var lead strings.Builder
	lead.WriteString("q,pad\n")
	for i := range leadRows {
		lead.WriteString(csvRow(i))
	}
	if _, err := io.WriteString(pw, lead.String()); err != nil {
		return csvResult{err: fmt.Errorf("writing the first rows: %w", err)}
	}
	var a answer
	select {
	case a = <-answers:
	case <-time.After(5 * time.Second):
		pw.CloseWithError(errors.New("no answer"))
		return csvResult{err: fmt.Errorf("no answer within 5 s of %d rows, the upload still open: it or the answer is buffered on the way", leadRows)}
	}
	if a.err != nil {
		return csvResult{err: a.err}
	}
	defer a.resp.Body.Close()
	res.status = a.resp.StatusCode
	lines := make(chan error, leadRows+slow+2)
	go func() {
		br := bufio.NewReader(a.resp.Body)
		for {
			_, err := br.ReadString('\n')
			lines <- err
			if err != nil {
				return
			}
		}
	}()
	for res.lines < earlyAnswers {
		select {
		case err := <-lines:
			if err != nil {
				res.err = fmt.Errorf("answer ended after %d lines, the upload still open: %w", res.lines, err)
				return res
			}
			res.lines++
		case <-time.After(5 * time.Second):
			res.err = fmt.Errorf("only %d answer lines within 5 s while the upload was open: buffered on the way", res.lines)
			return res
		}
	}
	res.early = time.Since(start)
	if answered != nil {
		close(answered)
	}
	for i := range slow {
		time.Sleep(every)
		if _, err := io.WriteString(pw, csvRow(leadRows+i)); err != nil {
			res.err = fmt.Errorf("writing row %d: %w", leadRows+i, err)
			return res
		}
	}
	pw.Close()
	for err := range lines {
		if err == io.EOF {
			return res
		}
		if err != nil {
			res.err = fmt.Errorf("answer cut after %d lines: %w", res.lines, err)
			return res
		}
		res.lines++
	}
	return res
}
