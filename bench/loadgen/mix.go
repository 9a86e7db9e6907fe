package main

// The soak's tool-call mix: a connection cycles through save_note, get_note, list_notes (the
// MongoDB-backed notes tools) and the fixture test_simple_text (cycle), and every answer is checked.
// All connections write the same small pool of notes: with FerretDB (SQLite) a query that is not
// by _id reads the whole collection, so list_notes costs grow with the number of notes (about
// 1 s a call at 6,000 notes, 10 ms at 50); a fixed pool keeps the database's cost flat, so what
// the soak sees over time is the server's. Writers race on a note, so get_note checks that the
// note is the one asked for and its content was written by the soak, not whose write it is.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cycle is the calls of one round: save_note, test_simple_text, get_note, test_simple_text,
// list_notes, then test_simple_text to the end; 3 of 8 calls wait on the database.
const cycle = 8

// notePool is the number of notes the soak writes (ids soak-0 .. soak-63).
const notePool = 64

// callTimeout bounds one soak call: a server that stops answering is an error, not a hang.
const callTimeout = 30 * time.Second

// toolCaller is a connection that can send any tools/call (wsConn and httpConn).
type toolCaller interface {
	conn
	callTool(name string, req []byte, id int, want expect) error
}

func (w *wsConn) callTool(name string, req []byte, id int, want expect) error {
	deadline := time.Now().Add(callTimeout)
	_ = w.c.SetWriteDeadline(deadline)
	_ = w.c.SetReadDeadline(deadline)
	return w.roundTrip(req, id, want)
}

func (h *httpConn) callTool(name string, req []byte, id int, want expect) error {
	if h.callHeader == nil { // 2025: in the session
		_, err := h.post(req, id, want, http.StatusOK)
		return err
	}
	header := h.callHeader.Clone() // 2026: Mcp-Name names the tool
	header.Set("Mcp-Name", name)
	_, err := h.send(req, header, id, want, http.StatusOK)
	return err
}

var _ toolCaller = (*wsConn)(nil)
var _ toolCaller = (*httpConn)(nil)

// mix is one connection's position in the cycle.
type mix struct {
	conn int // this connection's number: where in the note pool it starts
	era  string
	step int
}

// newMix starts a connection at one of the last three fixture calls of a round or at its save
// (never at get_note or list_notes: their note may not be written yet), so that the first calls
// of 2,000 connections are not all save_note at once.
func newMix(conn int, era string) *mix {
	return &mix{conn: conn, era: era, step: cycle - 3 + conn%4}
}

// wrongAnswer is a complete answer to the call that the checks refused (an isError result, other
// content): the connection is still in step, unlike after a transport error.
type wrongAnswer struct{ err error }

func (e *wrongAnswer) Error() string { return e.err.Error() }

// toolResult is what the checks read of a tools/call result.
type toolResult struct {
	Result struct {
		IsError    bool            `json:"isError"`
		Structured json.RawMessage `json:"structuredContent"`
	} `json:"result"`
}

// structured decodes the structuredContent of a tools/call answer that is not an isError result.
func structured(data []byte, into any) error {
	var r toolResult
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("bad JSON %q: %v", clip(data), err)
	}
	if r.Result.IsError {
		return fmt.Errorf("isError result: %q", clip(data))
	}
	if err := json.Unmarshal(r.Result.Structured, into); err != nil {
		return fmt.Errorf("structuredContent: %v: %q", err, clip(data))
	}
	return nil
}

// next returns the next call of this connection's cycle: the tool's name, its arguments (JSON)
// and the check of its answer.
func (m *mix) next() (name string, args []byte, verify func([]byte) error) {
	k := m.step
	m.step++
	id := "soak-" + strconv.Itoa((m.conn+k/cycle)%notePool)
	prefix := "soak note " + id + ":"
	switch k % cycle {
	case 0:
		args, _ = json.Marshal(map[string]any{"id": id, "title": "soak " + id,
			"content": fmt.Sprintf("%s written by connection %d, call %d", prefix, m.conn, k), "tags": []string{"soak"}})
		return "save_note", args, func(data []byte) error {
			var out struct {
				ID string `json:"id"`
			}
			if err := structured(data, &out); err != nil {
				return err
			}
			if out.ID != id {
				return fmt.Errorf("save_note answered id %q, want %q", out.ID, id)
			}
			return nil
		}
	case 2:
		args, _ = json.Marshal(map[string]any{"id": id})
		return "get_note", args, func(data []byte) error {
			var out struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			}
			if err := structured(data, &out); err != nil {
				return err
			}
			if out.ID != id || !strings.HasPrefix(out.Content, prefix) {
				return fmt.Errorf("get_note %s answered note %q with %q", id, out.ID, clip([]byte(out.Content)))
			}
			return nil
		}
	case 4:
		return "list_notes", []byte(`{"limit":5,"tag":"soak"}`), func(data []byte) error {
			var out struct {
				Notes []struct {
					ID string `json:"id"`
				} `json:"notes"`
			}
			if err := structured(data, &out); err != nil {
				return err
			}
			if len(out.Notes) == 0 {
				return fmt.Errorf("list_notes found no soak note: %q", clip(data))
			}
			return nil
		}
	default:
		return toolName, []byte(`{}`), nil
	}
}

// request builds the tools/call of this era with this id.
func (m *mix) request(id int, name string, args []byte) []byte {
	meta := ""
	if m.era == "2026" {
		meta = "," + meta2026
	}
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s%s}}`,
		id, name, args, meta)
}

// call sends the next call of the cycle on c and checks its answer.
func (m *mix) call(c toolCaller, id int) (string, error) {
	name, args, verify := m.next()
	want := expect{call: name == toolName, complete: m.era == "2026"}
	if verify != nil {
		want.verify = func(data []byte) error {
			if err := verify(data); err != nil {
				return &wrongAnswer{err}
			}
			return nil
		}
	}
	return name, c.callTool(name, m.request(id, name, args), id, want)
}
