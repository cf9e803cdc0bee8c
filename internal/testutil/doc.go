// Package testutil holds the test fixtures that several packages' tests
// share, so that each is written once:
//
//   - fixture documents and the small indexes built from them (Doc,
//     NDJSON, WriteIndex, OpenIndex);
//   - the index of the real BAN sample in testdata/ban-nc, built once per
//     test binary (BanNC, BuildFile; Main as TestMain removes it);
//   - a real redis-server child process on 127.0.0.1 (StartRedis,
//     NeedRedis, FreePort);
//   - a fully read HTTP GET (Get, Client);
//   - a goroutine-safe log sink and its JSON records (SyncBuffer,
//     JSONLines), and a read-or-fail file helper (ReadFile).
//
// It is imported by _test.go files only, never by the packages they test
// or by a command. It imports internal/index, internal/source and
// internal/text, so the internal tests of those three packages cannot use
// it (the import would be a cycle); every other package's tests can.
package testutil
