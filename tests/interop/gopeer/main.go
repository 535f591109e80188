// gopeer: a SloPN hub or client in Go on quic-go, written for the interop
// test from the wire-protocol facts in DESIGN.md (how the original Go SloPN
// behaves): ALPN slopn-protocol, no certificate check, one JSON login line
// each way, no subnet_mask in the hub's answer, code 1 on a wrong token,
// code 0 "client exit", no keep-alives from the client, one raw IPv4
// packet per DATAGRAM frame, and a non-IPv4 datagram now and then.
//
// It is not the original (that needs Go 1.25 and a newer quic-go than
// Debian 12 has); it is a second, independent implementation on the
// original's QUIC stack, so that ours is tested against quic-go.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	quic "github.com/lucas-clemente/quic-go"
)

const alpn = "slopn-protocol"

type loginRequest struct {
	Type          string `json:"type"`
	Token         string `json:"token"`
	ClientVersion string `json:"client_version"`
	OS            string `json:"os"`
}

type loginResponse struct {
	Type          string `json:"type"`
	Status        string `json:"status"`
	Message       string `json:"message,omitempty"`
	AssignedVIP   string `json:"assigned_vip,omitempty"`
	SubnetMask    string `json:"subnet_mask,omitempty"`
	ServerVIP     string `json:"server_vip,omitempty"`
	ServerVersion string `json:"server_version"`
	// Ours only: IPv6 inside the tunnel (for -stray).
	AssignedVIP6 string `json:"assigned_vip6,omitempty"`
	ServerVIP6   string `json:"server_vip6,omitempty"`
	PrefixLen6   int    `json:"prefix_len6,omitempty"`
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "gopeer: "+format+"\n", a...)
	os.Exit(1)
}

// openTun: IFF_TUN|IFF_NO_PI, so each read or write is one bare IP packet.
func openTun(name string, addr string, mtu int) *os.File {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR, 0)
	if err != nil {
		die("open /dev/net/tun: %v", err)
	}
	var ifr [40]byte
	copy(ifr[:15], name)
	*(*uint16)(unsafe.Pointer(&ifr[16])) = syscall.IFF_TUN | syscall.IFF_NO_PI
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TUNSETIFF,
		uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		die("TUNSETIFF %s: %v", name, e)
	}
	for _, args := range [][]string{
		{"addr", "add", addr, "dev", name},
		{"link", "set", name, "mtu", fmt.Sprint(mtu), "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			die("ip %v: %v %s", args, err, out)
		}
	}
	return os.NewFile(uintptr(fd), name)
}

var (
	idle = flag.Duration("idle", 30*time.Second, "QUIC idle timeout")
	// The original's is 1280 (DESIGN.md), which its newer quic-go carries;
	// this quic-go (0.29) carries datagrams of at most 1217 bytes.
	tunMTU = flag.Int("mtu", 1100, "client TUN MTU")
	mask   = flag.String("mask", "", "hub: the subnet_mask to send (none, as the original)")
	stray  = flag.Bool("stray", false, "hub: give IPv6 too, and send packets not for the client")
	after  = flag.Duration("stray-after", time.Second, "hub, with -stray: when after the login")
	spoof  = flag.String("spoof", "", "hub, with -stray: also an echo request to the client from each of these addresses (comma-separated; IPv4 or IPv6)")
	mute   = flag.Bool("mute", false, "hub: never answer a login (keep the connection open)")
	drop   = flag.Bool("drop", false, "hub: end each connection just after answering its login")
	quiet  = flag.Bool("quiet", false, "hub: send no keep-alives (idle clients keep themselves)")
	extra  = flag.String("extra", "", "raw JSON fields added to the login line (the client's request, the hub's success answer), e.g. \"ipv6\":\"yes\"")
	long   = flag.Int("long-line", 0, "after the login, a line of an unknown type of this many bytes on the stream (either mode)")
)

// withExtra: the JSON object b with the raw fields of -extra in it.
func withExtra(b []byte) []byte {
	if *extra == "" {
		return b
	}
	return append(b[:len(b)-1:len(b)-1], (","+*extra+"}")...)
}

// sendLong: with -long-line, a line of an unknown type of that many bytes
// ('\n' included), then one short one of another unknown type.
func sendLong(stream quic.Stream) {
	if *long <= 0 {
		return
	}
	head := `{"type":"gopeer_pad","pad":"`
	pad := *long - len(head) - len(`"}`) - 1
	if pad < 0 {
		pad = 0
	}
	line := head + strings.Repeat("x", pad) + "\"}\n"
	stream.Write([]byte(line))
	stream.Write([]byte(`{"type":"gopeer_after"}` + "\n"))
	fmt.Printf("gopeer: long line sent (%d bytes)\n", len(line))
}

func quicConfig() *quic.Config {
	// No KeepAlivePeriod: like the original client, it relies on the hub.
	return &quic.Config{EnableDatagrams: true, MaxIdleTimeout: *idle}
}

func client(addr, token, tunName string) {
	tlsConf := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{alpn}}
	conn, err := quic.DialAddr(addr, tlsConf, quicConfig())
	if err != nil {
		die("dial %s: %v", addr, err)
	}
	stream, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		die("open stream: %v", err)
	}
	req, _ := json.Marshal(loginRequest{"login_request", token, "gopeer-0.29", "linux"})
	req = withExtra(req)
	// The line in two writes: the hub must put STREAM frames together.
	stream.Write(req[:5])
	time.Sleep(50 * time.Millisecond)
	stream.Write(append(req[5:], '\n'))
	line, err := bufio.NewReader(stream).ReadBytes('\n')
	if err != nil {
		var ae *quic.ApplicationError
		if errors.As(err, &ae) {
			die("login refused: connection closed with code %d (%s)", ae.ErrorCode, ae.ErrorMessage)
		}
		die("no login answer: %v", err)
	}
	var resp loginResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		die("bad login answer %q: %v", line, err)
	}
	if resp.Status != "success" {
		die("login refused: %s", resp.Message)
	}
	fmt.Printf("gopeer: connected: vip %s hub %s\n", resp.AssignedVIP, resp.ServerVIP)
	sendLong(stream)
	// The original ignores subnet_mask and uses /24, with a small MTU.
	tun := openTun(tunName, resp.AssignedVIP+"/24", *tunMTU)
	// A non-IPv4 datagram, as the original's IPv6 router solicitations.
	conn.SendMessage(append([]byte{0x60}, make([]byte, 47)...))
	go func() {
		for {
			p, err := conn.ReceiveMessage()
			if err != nil {
				return
			}
			tun.Write(p)
		}
	}()
	go func() {
		buf := make([]byte, 2000)
		for {
			n, err := tun.Read(buf)
			if err != nil {
				return
			}
			conn.SendMessage(buf[:n])
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
		conn.CloseWithError(0, "client exit")
		time.Sleep(100 * time.Millisecond)
	case <-conn.Context().Done():
		die("connection lost: %v", conn.Context().Err())
	}
}

func selfSigned() tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(),
		NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		die("certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type hub struct {
	mu    sync.Mutex
	next  int
	conns map[string]quic.Connection // by VIP
	tun   *os.File
	token string
}

func (h *hub) serve(conn quic.Connection) {
	stream, err := conn.AcceptStream(context.Background())
	if err != nil {
		return
	}
	line, err := bufio.NewReader(stream).ReadBytes('\n')
	var req loginRequest
	if err != nil || json.Unmarshal(line, &req) != nil || req.Type != "login_request" {
		conn.CloseWithError(1, "unauthorized")
		return
	}
	if *mute {
		fmt.Printf("gopeer: login held\n")
		<-conn.Context().Done()
		fmt.Printf("gopeer: held login closed\n")
		return
	}
	if req.Token != h.token {
		b, _ := json.Marshal(loginResponse{Type: "login_response", Status: "error",
			Message: "Invalid authentication token", ServerVersion: "gopeer"})
		stream.Write(append(b, '\n'))
		conn.CloseWithError(1, "unauthorized")
		return
	}
	h.mu.Lock()
	h.next++
	vip := fmt.Sprintf("10.100.0.%d", h.next+1)
	h.conns[vip] = conn
	h.mu.Unlock()
	// No subnet_mask, as the original hub (unless -mask asks for one).
	resp := loginResponse{Type: "login_response", Status: "success",
		AssignedVIP: vip, SubnetMask: *mask, ServerVIP: "10.100.0.1", ServerVersion: "gopeer"}
	if *stray {
		resp.AssignedVIP6, resp.ServerVIP6, resp.PrefixLen6 = vip6, "fd00:1:2:3::1", 64
	}
	b, _ := json.Marshal(resp)
	stream.Write(append(withExtra(b), '\n'))
	fmt.Printf("gopeer: session up: vip %s client %s\n", vip, req.ClientVersion)
	sendLong(stream)
	if *drop {
		time.Sleep(50 * time.Millisecond)
		conn.CloseWithError(0, "dropped")
		h.mu.Lock()
		delete(h.conns, vip)
		h.mu.Unlock()
		return
	}
	if *stray {
		go sendStray(conn, vip)
		// Lines after the login that a client cannot understand, at once:
		// it must say so once, not fifty times.
		for i := 0; i < 50; i++ {
			stream.Write([]byte("{\"type\":\"network\",\"egress6\":1}\n"))
		}
	}
	for {
		p, err := conn.ReceiveMessage()
		if err != nil {
			fmt.Printf("gopeer: session down: vip %s: %v\n", vip, err)
			h.mu.Lock()
			delete(h.conns, vip)
			h.mu.Unlock()
			return
		}
		if len(p) >= 20 && p[0]>>4 == 4 {
			h.tun.Write(p)
		}
		if *stray && len(p) >= 40 && p[0]>>4 == 6 && p[6] == 58 && p[40] == 129 {
			fmt.Printf("gopeer: echo reply from %s\n", net.IP(p[8:24]))
		}
		if *stray && len(p) >= 21 && p[0]>>4 == 4 && p[9] == 1 && p[20] == 0 {
			fmt.Printf("gopeer: echo reply from %s\n", net.IP(p[12:16]))
		}
	}
}

// A hostile hub's packets (-stray), a second (-stray-after) after the login: to other
// addresses than the client's (its LAN, another client, an IPv6 router
// advertisement to all nodes, another IPv6 address), which the client must
// drop, and an echo request to each of its addresses, which it answers;
// with -spoof, echo requests to them from those sources (the client's LAN,
// say), which it must drop.
const vip6 = "fd00:1:2:3::2"

func sendStray(conn quic.Connection, vip string) {
	time.Sleep(*after)
	hub4, hub6, ll := net.ParseIP("10.100.0.1"), net.ParseIP("fd00:1:2:3::1"), net.ParseIP("fe80::1")
	echo := []byte{128, 0, 0, 0, 0, 1, 0, 1}                              // ICMPv6 echo request
	ra := []byte{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0} // router advertisement
	ps := [][]byte{
		ip4(hub4, net.ParseIP("198.51.100.77"), []byte{8, 0, 0, 0, 0, 1, 0, 1}),
		ip4(hub4, net.ParseIP("10.100.0.9"), []byte{8, 0, 0, 0, 0, 1, 0, 1}),
		ip6(ll, net.ParseIP("ff02::1"), 255, ra),
		ip6(hub6, net.ParseIP("fd00:1:2:3::99"), 64, echo),
		ip4(hub4, net.ParseIP(vip), []byte{8, 0, 0, 0, 0, 1, 0, 1}),
		ip6(hub6, net.ParseIP(vip6), 64, echo),
	}
	for _, s := range strings.Split(*spoof, ",") {
		if src := net.ParseIP(s); src == nil {
			continue
		} else if src.To4() != nil {
			ps = append(ps, ip4(src, net.ParseIP(vip), []byte{8, 0, 0, 0, 0, 1, 0, 1}))
		} else {
			ps = append(ps, ip6(src, net.ParseIP(vip6), 64, echo))
		}
	}
	for _, p := range ps {
		if err := conn.SendMessage(p); err != nil {
			fmt.Printf("gopeer: stray: %v\n", err)
		}
	}
	fmt.Printf("gopeer: stray packets sent\n")
}

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ip4: an IPv4 ICMP packet (icmp with its checksum zero) from src to dst.
func ip4(src, dst net.IP, icmp []byte) []byte {
	p := append(make([]byte, 20), icmp...)
	p[0], p[8], p[9] = 0x45, 64, 1
	p[2], p[3] = byte(len(p)>>8), byte(len(p))
	copy(p[12:16], src.To4())
	copy(p[16:20], dst.To4())
	c := csum(p[:20], 0)
	p[10], p[11] = byte(c>>8), byte(c)
	c = csum(p[20:], 0)
	p[22], p[23] = byte(c>>8), byte(c)
	return p
}

// ip6: an IPv6 ICMPv6 packet (icmp with its checksum zero) from src to dst.
func ip6(src, dst net.IP, hops byte, icmp []byte) []byte {
	p := append(make([]byte, 40), icmp...)
	p[0], p[6], p[7] = 0x60, 58, hops
	p[4], p[5] = byte(len(icmp)>>8), byte(len(icmp))
	copy(p[8:24], src.To16())
	copy(p[24:40], dst.To16())
	pseudo := append(append(append([]byte{}, p[8:40]...), 0, 0, byte(len(icmp)>>8), byte(len(icmp))), 0, 0, 0, 58)
	c := csum(append(pseudo, icmp...), 0)
	p[42], p[43] = byte(c>>8), byte(c)
	return p
}

func server(addr, token, tunName string) {
	h := &hub{conns: map[string]quic.Connection{}, token: token,
		tun: openTun(tunName, "10.100.0.1/24", 1280)}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{selfSigned()}, NextProtos: []string{alpn}}
	cfg := quicConfig()
	if !*quiet {
		cfg.KeepAlivePeriod = 10 * time.Second // the hub keeps idle clients alive
	}
	ln, err := quic.ListenAddr(addr, tlsConf, cfg)
	if err != nil {
		die("listen %s: %v", addr, err)
	}
	fmt.Printf("gopeer: listening on %s\n", addr)
	go func() {
		buf := make([]byte, 2000)
		for {
			n, err := h.tun.Read(buf)
			if err != nil {
				return
			}
			if n < 20 {
				continue
			}
			dst := net.IP(buf[16:20]).String()
			h.mu.Lock()
			c := h.conns[dst]
			h.mu.Unlock()
			if c != nil {
				c.SendMessage(buf[:n])
			}
		}
	}()
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			die("accept: %v", err)
		}
		go h.serve(conn)
	}
}

func main() {
	mode := flag.String("mode", "client", "client or server")
	addr := flag.String("addr", "", "hub HOST:PORT (client) or listen ADDR:PORT (server)")
	token := flag.String("token", "", "token")
	tun := flag.String("tun", "gopeer0", "TUN name")
	flag.Parse()
	switch *mode {
	case "client":
		client(*addr, *token, *tun)
	case "server":
		server(*addr, *token, *tun)
	default:
		die("-mode client|server")
	}
}
