// tlogclient is an outside C2SP client of a feeledger log, written against
// Go's own golang.org/x/mod/sumdb packages rather than feeledger's code: it
// reads a log over plain HTTP from a base URL (a feeledger server, or a
// bucket the mirror writes, with no server in the path), and checks it
// from the log's verifier key alone:
//
//   - the checkpoint (c2sp.org/tlog-checkpoint) is a signed note
//     (note.Open) of that key, whose first line is the key's name;
//   - the hash tiles (c2sp.org/tlog-tiles, tile/<L>/<N>[.p/<W>]) are read
//     through tlog.TileHashReader, which checks every tile it loads
//     against the checkpoint's size and root;
//   - every entry bundle (tile/entries/<N>[.p/<W>]: each leaf as a
//     big-endian u16 length and its bytes, docs/format.md §14.2) holds
//     exactly the leaves of its width, and each leaf's RFC 6962 hash
//     (tlog.RecordHash) is proven in the tree (ProveRecord, CheckRecord);
//   - the tree at a few earlier sizes is proven a prefix of it (TreeHash,
//     ProveTree, CheckTree).
//
// It prints the checkpoint's size and root (base64, as in the checkpoint)
// and the number of leaves checked, and exits 1 with one line on stderr at
// the first thing that does not hold.
//
// Built offline against Debian's golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/tlogclient crates/cli/tests/go/tlogclient.go
//	/tmp/tlogclient 'xingguang.example/ledger+1234abcd+AQ...' http://127.0.0.1:8080
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is C2SP tlog-tiles': 256 hashes a tile.
const tileHeight = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogclient: "+format+"\n", args...)
	os.Exit(1)
}

// get fetches base + "/" + path; anything but 200 is an error.
func get(base, path string) ([]byte, error) {
	r, err := http.Get(base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if r.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/%s: %s", base, path, r.Status)
	}
	return body, nil
}

// c2spPath is a tile's path in C2SP tlog-tiles, which drops the height
// that Go's sumdb paths carry (tile/8/0/x001/234.p/5 is tile/0/x001/234.p/5
// there) and names entry bundles tile/entries/...
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
	if t.L == -1 {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

// tiles is a tlog.TileReader over HTTP. It keeps what it fetched, since
// TileHashReader asks for the same upper tiles on every read; the hash
// reader checks them again each time, so nothing unchecked is trusted.
type tiles struct {
	base    string
	fetched map[string][]byte
}

func (r *tiles) Height() int { return tileHeight }

func (r *tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		p := c2spPath(t)
		data, ok := r.fetched[p]
		if !ok {
			var err error
			data, err = get(r.base, p)
			if err != nil {
				return nil, err
			}
			if len(data) != t.W*tlog.HashSize {
				return nil, fmt.Errorf("%s holds %d bytes, not %d", p, len(data), t.W*tlog.HashSize)
			}
			r.fetched[p] = data
		}
		out[i] = data
	}
	return out, nil
}

func (r *tiles) SaveTiles([]tlog.Tile, [][]byte) {}

// parseCheckpoint reads a checkpoint note's text: origin, size, root.
func parseCheckpoint(text string) (string, tlog.Tree) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		fail("the checkpoint has fewer than three lines: %q", text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("the checkpoint's size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("the checkpoint's root %q is not 32 bytes of base64", lines[2])
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	return lines[0], tree
}

// splitBundle returns the leaves of an entry bundle.
func splitBundle(p string, data []byte) [][]byte {
	var leaves [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			fail("%s ends inside a length", p)
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			fail("%s ends inside a leaf", p)
		}
		leaves = append(leaves, data[2:2+n])
		data = data[2+n:]
	}
	return leaves
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: tlogclient VKEY BASE-URL")
	}
	vkey, base := os.Args[1], strings.TrimSuffix(os.Args[2], "/")
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("the log key: %v", err)
	}
	msg, err := get(base, "checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("the checkpoint does not verify with the log key: %v", err)
	}
	origin, tree := parseCheckpoint(n.Text)
	if origin != verifier.Name() {
		fail("the checkpoint's origin %q is not the log key's name %q", origin, verifier.Name())
	}
	hashes := tlog.TileHashReader(tree, &tiles{base: base, fetched: map[string][]byte{}})

	checked := int64(0)
	for start := int64(0); start < tree.N; start += 1 << tileHeight {
		width := tree.N - start
		if width > 1<<tileHeight {
			width = 1 << tileHeight
		}
		bundle := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(width)}
		p := c2spPath(bundle)
		data, err := get(base, p)
		if err != nil {
			fail("%v", err)
		}
		leaves := splitBundle(p, data)
		if int64(len(leaves)) != width {
			fail("%s holds %d leaves, not %d", p, len(leaves), width)
		}
		for i, leaf := range leaves {
			index := start + int64(i)
			proof, err := tlog.ProveRecord(tree.N, index, hashes)
			if err != nil {
				fail("proving leaf %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(leaf)); err != nil {
				fail("leaf %d of %s is not in the tree: %v", index, p, err)
			}
			checked++
		}
	}

	for _, old := range []int64{1, tree.N / 2, tree.N - 1} {
		if old < 1 || old >= tree.N {
			continue
		}
		oldHash, err := tlog.TreeHash(old, hashes)
		if err != nil {
			fail("the tree hash at size %d: %v", old, err)
		}
		proof, err := tlog.ProveTree(tree.N, old, hashes)
		if err != nil {
			fail("proving size %d a prefix: %v", old, err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, old, oldHash); err != nil {
			fail("the tree at size %d is not a prefix: %v", old, err)
		}
	}
	fmt.Printf("size %d\nroot %s\nleaves %d checked\n", tree.N, base64.StdEncoding.EncodeToString(tree.Hash[:]), checked)
}
