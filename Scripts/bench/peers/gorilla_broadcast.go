// Broadcast peer for Scripts/bench.sh: every text message received on /ws is sent to every
// connected client (sender included), framed once with a PreparedMessage; one writer goroutine
// per client with a bounded queue (a client that falls 4096 messages behind is dropped).
// Build offline: GO111MODULE=off GOPATH=/usr/share/gocode go build -o gorilla_broadcast gorilla_broadcast.go
package main

import (
	"flag"
	"log"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

type client struct {
	conn *websocket.Conn
	send chan *websocket.PreparedMessage
}

var (
	mu      sync.RWMutex
	clients = map[*client]struct{}{}
	upg     = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024,
		CheckOrigin: func(*http.Request) bool { return true }}
)

func serve(w http.ResponseWriter, r *http.Request) {
	conn, err := upg.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{conn: conn, send: make(chan *websocket.PreparedMessage, 4096)}
	mu.Lock()
	clients[c] = struct{}{}
	mu.Unlock()
	go func() {
		for pm := range c.send {
			if err := conn.WritePreparedMessage(pm); err != nil {
				break
			}
		}
		conn.Close()
	}()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
		if err != nil {
			break
		}
		mu.RLock()
		for o := range clients {
			select {
			case o.send <- pm:
			default:
				o.conn.Close() // too slow: drop it
			}
		}
		mu.RUnlock()
	}
	mu.Lock()
	delete(clients, c)
	mu.Unlock()
	close(c.send)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	http.HandleFunc("/ws", serve)
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
