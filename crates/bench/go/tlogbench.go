// tlogbench times Go's golang.org/x/mod/sumdb/tlog on the Merkle work
// feeledger's bench times on its side (`feeledger-bench --merkle-only`):
// appending N records (StoredHashes, hashes held in memory) and building
// inclusion and consistency proofs (ProveRecord, ProveTree) at size N from
// random indices (the same splitmix64 as the bench, seed 1). Records are
// 500 bytes, about a feeledger leaf. It prints one line per figure, in the
// bench's format. See docs/performance.md, "Compared with peers".
//
// Built offline against Debian's golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/tlogbench crates/bench/go/tlogbench.go
//	/tmp/tlogbench 1000000
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// hashes is an in-memory tlog.HashReader over stored hashes.
type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func main() {
	n := int64(1000000)
	if len(os.Args) > 1 {
		v, err := strconv.ParseInt(os.Args[1], 10, 64)
		if err != nil || v < 2 {
			fmt.Fprintln(os.Stderr, "usage: tlogbench [entries >= 2]")
			os.Exit(2)
		}
		n = v
	}
	record := make([]byte, 500)
	stored := make(hashes, 0, 2*n)
	start := time.Now()
	for i := int64(0); i < n; i++ {
		// Each record differs in its first 8 bytes, as leaves do.
		for b := 0; b < 8; b++ {
			record[b] = byte(i >> (8 * b))
		}
		h, err := tlog.StoredHashes(i, record, stored)
		if err != nil {
			panic(err)
		}
		stored = append(stored, h...)
	}
	elapsed := time.Since(start)
	fmt.Printf("figure  go_tlog_append          %12.1f entry/s   (%.3f us each, StoredHashes of a %d-byte record)\n",
		float64(n)/elapsed.Seconds(), elapsed.Seconds()*1e6/float64(n), len(record))
	root, err := tlog.TreeHash(n, stored)
	if err != nil {
		panic(err)
	}
	const proofs = 100000
	rng := splitmix64(1)
	start = time.Now()
	for i := 0; i < proofs; i++ {
		index := int64(rng.next() % uint64(n))
		if _, err := tlog.ProveRecord(n, index, stored); err != nil {
			panic(err)
		}
	}
	elapsed = time.Since(start)
	fmt.Printf("figure  go_tlog_inclusion_proof  %12.3f us each\n", elapsed.Seconds()*1e6/proofs)
	start = time.Now()
	for i := 0; i < proofs; i++ {
		old := int64(rng.next()%uint64(n-1)) + 1
		if _, err := tlog.ProveTree(n, old, stored); err != nil {
			panic(err)
		}
	}
	elapsed = time.Since(start)
	fmt.Printf("figure  go_tlog_consistency_proof %12.3f us each\n", elapsed.Seconds()*1e6/proofs)
	fmt.Printf("note     root %x at %d entries\n", root[:], n)
}
