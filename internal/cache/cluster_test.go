package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"balise/internal/testutil"
)

// startCluster starts three redis-server processes in cluster mode and
// joins them into one Cluster (no replicas), each owning a third of the
// 16384 slots. It takes well under a second here.
func startCluster(t *testing.T) []*testutil.RedisServer {
	t.Helper()
	ctx := context.Background()
	nodes := make([]*testutil.RedisServer, 3)
	for i := range nodes {
		nodes[i] = testutil.StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	bounds := []int{0, 5461, 10923, 16384}
	for i, n := range nodes {
		rc := rawClient(t, n.Addr())
		if err := rc.ClusterAddSlotsRange(ctx, bounds[i], bounds[i+1]-1).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE on node %d: %v", i, err)
		}
		if i > 0 {
			if err := rawClient(t, nodes[0].Addr()).ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(n.Port())).Err(); err != nil {
				t.Fatalf("CLUSTER MEET: %v", err)
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		rc := rawClient(t, n.Addr())
		for {
			info, _ := rc.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster did not converge within 10 s:\n%s", info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nodes
}

func TestRedisCluster(t *testing.T) {
	testutil.NeedRedis(t)
	start := time.Now()
	nodes := startCluster(t)
	t.Logf("3-node cluster up in %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	url := fmt.Sprintf("redis://%s?addr=%s&addr=%s", nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr())
	cfg := redisConfig(url)
	cfg.RedisTimeout = 50 * time.Millisecond // the first call fetches the slot map
	a := mustNew(t, cfg, nil)
	const n = 600
	for i := range n {
		a.Set(ctx, fmt.Sprintf("key-%d", i), geojson(1+i%3), ClassFuzzy)
	}
	waitWrites(t, a, n)
	// Hashed keys spread over the three nodes.
	total := int64(0)
	for i, node := range nodes {
		size, err := rawClient(t, node.Addr()).DBSize(ctx).Result()
		if err != nil || size < n/6 {
			t.Errorf("node %d holds %d keys (%v); want a fair share of %d", i, size, err, n)
		}
		total += size
	}
	if total != n {
		t.Errorf("keys in the cluster; got %d; want %d", total, n)
	}
	b := mustNew(t, cfg, nil)
	for i := range n {
		v, tier, ok := b.Get(ctx, fmt.Sprintf("key-%d", i))
		if !ok || tier != TierL2 || string(v) != string(geojson(1+i%3)) {
			t.Fatalf("Get(key-%d) from the cluster; got %d bytes, %v, %v", i, len(v), tier, ok)
		}
	}
	// One node down: its keys miss, the others still hit, nothing fails.
	nodes[2].Kill()
	c := mustNew(t, cfg, nil)
	tiers := map[Tier]int{}
	for i := range n {
		_, tier, err := c.Do(ctx, fmt.Sprintf("key-%d", i), constant("computed", ClassExact))
		if err != nil {
			t.Fatalf("Do with a node down: %v", err)
		}
		tiers[tier]++
	}
	// The live two thirds still hit: the breaker must not open on the
	// dead node's failures (a run of five of them comes at once), or every
	// shard would be skipped for the dead one.
	if tiers[TierL2] < n/3 || tiers[TierNone] == 0 || c.Stats().Breaker != "closed" {
		t.Errorf("tiers with one node of three down: %v, breaker %s; want most of the live two thirds as L2 hits, computes, and the breaker closed",
			tiers, c.Stats().Breaker)
	}
	t.Logf("one node of three killed: %v, breaker %s", tiers, c.Stats().Breaker)
}
