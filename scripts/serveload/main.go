// Command serveload sends forgets of random customers to a running forget
// serve from a few concurrent clients for a while, and prints the
// throughput and the latencies it measured (scripts/bench-serve runs it).
// wrk was tried first: its latency figures broke Little's law here.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18080/api/customer/forget", "the forget API's `URL`")
	customers := flag.Int("customers", 1000, "forget customers 1 to `N`, at random")
	clients := flag.Int("clients", 4, "concurrent `clients`, one request at a time each")
	duration := flag.Duration("d", 20*time.Second, "how long to send forgets")
	user := flag.String("user", "bench", "the api-username")
	key := flag.String("key", "bench-key-0123456789abcdef", "the api-key")
	flag.Parse()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    int
		wg        sync.WaitGroup
	)
	end := time.Now().Add(*duration)
	for range *clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				req, err := http.NewRequest(http.MethodPatch, *url, strings.NewReader("customer_id="+strconv.Itoa(1+rand.IntN(*customers))))
				if err != nil {
					log.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("api-username", *user)
				req.Header.Set("api-key", *key)
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mine = append(mine, time.Since(start))
				if res.StatusCode != http.StatusOK {
					bad++
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failed += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(latencies) == 0 {
		log.Fatalf("no answer in %v (%d failed)", *duration, failed)
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, l := range latencies {
		sum += l
	}
	at := func(q float64) time.Duration {
		return latencies[int(q*float64(len(latencies)-1))].Round(time.Microsecond)
	}
	fmt.Printf("req/s %.0f  mean %v  p50 %v  p99 %v  max %v  not 200 %d\n", float64(len(latencies))/duration.Seconds(),
		(sum / time.Duration(len(latencies))).Round(time.Microsecond), at(0.5), at(0.99), at(1), failed)
}
