import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A one-DataNode HDFS (MiniDFSCluster) with WebHDFS on, for the WebHDFS file system's tests; run as a
 * single source file: {@code java -cp <servers/hdfs/target/classpath.txt> HdfsLauncher.java <baseDir>
 * <nameNodeRpcPort> <nameNodeHttpPort> <dataNodePort> <dataNodeHttpPort> <dataNodeIpcPort>}. Every
 * address is on 127.0.0.1 at the given ports, so a restart (of this JVM over the same base directory,
 * or of one node by a command) serves at the same addresses. It prints {@code HDFS ready webhdfs=...}
 * when it serves, and then reads commands from stdin, one a line, each answered by {@code done <command>}:
 * {@code restart-namenode}, {@code restart-datanode}, {@code stop-datanode}, {@code start-datanode}.
 * It shuts the cluster down when stdin closes or on SIGTERM.
 */
public class HdfsLauncher {
  public static void main(String[] args) throws Exception {
    File base = new File(args[0]);
    boolean existing = new File(base, "name1").exists() || new File(base, "data").exists();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
    conf.set("dfs.datanode.address", "127.0.0.1:" + args[3]);
    conf.set("dfs.datanode.http.address", "127.0.0.1:" + args[4]);
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:" + args[5]);
    conf.set("dfs.datanode.hostname", "127.0.0.1");
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setInt("dfs.replication", 1);
    conf.setInt("dfs.namenode.replication.min", 1);
    conf.setLong("dfs.blocksize", 1L << 20);
    conf.setInt("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.namenode.heartbeat.recheck-interval", 2000);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setInt("dfs.namenode.handler.count", 4);
    conf.setInt("dfs.datanode.handler.count", 4);
    // Leases of a crashed writer expire in seconds, not an hour (the soft limit lets another client append).
    conf.setLong("dfs.namenode.lease-recheck-interval-ms", 500);
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf)
        .numDataNodes(1)
        .nameNodePort(Integer.parseInt(args[1]))
        .nameNodeHttpPort(Integer.parseInt(args[2]))
        .checkDataNodeAddrConfig(true)
        .format(!existing)
        .manageNameDfsDirs(true)
        .manageDataDfsDirs(true)
        .waitSafeMode(true)
        .build();
    cluster.waitActive();
    Thread shutdownHook = new Thread(cluster::shutdown);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    System.out.println("HDFS ready webhdfs=http://127.0.0.1:" + args[2] + " namenode=hdfs://127.0.0.1:" + args[1]);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    MiniDFSCluster.DataNodeProperties stopped = null;
    for (String line; (line = in.readLine()) != null; ) {
      String command = line.trim();
      try {
        switch (command) {
          case "restart-namenode":
            cluster.restartNameNode(true);
            break;
          case "restart-datanode":
            cluster.restartDataNode(0, true);
            cluster.waitActive();
            break;
          case "stop-datanode":
            stopped = cluster.stopDataNode(0);
            break;
          case "start-datanode":
            cluster.restartDataNode(stopped, true);
            cluster.waitActive();
            break;
          default:
            System.out.println("unknown " + command);
            continue;
        }
        System.out.println("done " + command);
      } catch (Exception e) {
        System.out.println("failed " + command + ": " + e);
      }
      System.out.flush();
    }
    Runtime.getRuntime().removeShutdownHook(shutdownHook);
    cluster.shutdown();
    System.exit(0);
  }
}
