// NiFi's own site-to-site client (org.apache.nifi:nifi-site-to-site-client, HTTP transport) driven
// against spec/support/nifi-s2s-server.ts, to show that server speaks NiFi's protocol. Run as a
// single-file program (one JVM for both directions, to keep the test cheap):
//   java -cp <servers/nifi-client/target/classpath.txt> Client.java <url> <input port> <n> <output port>
// It sends n FlowFiles (attribute seq=i, content "java-i") to the input port in one transaction and
// prints "sent <n>", then takes transactions from the output port until it is empty, printing
// "got <uuid> <content>" per FlowFile and "received <total>".
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.nifi.remote.Transaction;
import org.apache.nifi.remote.TransferDirection;
import org.apache.nifi.remote.client.SiteToSiteClient;
import org.apache.nifi.remote.protocol.DataPacket;
import org.apache.nifi.remote.protocol.SiteToSiteTransportProtocol;

public class Client {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    try (SiteToSiteClient client = new SiteToSiteClient.Builder()
        .url(url).portName(args[1]).transportProtocol(SiteToSiteTransportProtocol.HTTP).build()) {
      {
        int n = Integer.parseInt(args[2]);
        Transaction tx = client.createTransaction(TransferDirection.SEND);
        for (int i = 0; i < n; i++) {
          Map<String, String> attributes = new HashMap<>();
          attributes.put("seq", String.valueOf(i));
          tx.send(("java-" + i).getBytes(StandardCharsets.UTF_8), attributes);
        }
        tx.confirm();
        tx.complete();
        System.out.println("sent " + n);
      }
    }
    try (SiteToSiteClient client = new SiteToSiteClient.Builder()
        .url(url).portName(args[3]).transportProtocol(SiteToSiteTransportProtocol.HTTP).build()) {
      {
        int total = 0;
        while (true) {
          Transaction tx = client.createTransaction(TransferDirection.RECEIVE);
          if (tx == null) break;
          DataPacket packet;
          int inTx = 0;
          while ((packet = tx.receive()) != null) {
            InputStream in = packet.getData();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            System.out.println("got " + packet.getAttributes().get("uuid") + " " + out.toString(StandardCharsets.UTF_8));
            inTx++;
          }
          tx.confirm();
          tx.complete();
          if (inTx == 0) break;
          total += inTx;
        }
        System.out.println("received " + total);
      }
    }
  }
}
