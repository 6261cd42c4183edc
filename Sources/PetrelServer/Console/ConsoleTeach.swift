/// Empty states that teach: what a new account needs to see its first message, the sandbox's numbers that provoke
/// each outcome, and how to add a real carrier.
enum Teach {
    /// The sandbox's magic endings (README, "The sandbox carrier").
    static let sandboxNumbers: HTML = """
        <p>The sandbox carrier picks the outcome from the number's last digits:</p>
        <div class="scroll"><table><thead><tr><th>Number ends in</th><th>What happens</th></tr></thead><tbody>
        <tr><td><code>…666</code></td><td>fails (<code>UNDELIV</code>)</td></tr>
        <tr><td><code>…777</code></td><td>expires (<code>EXPIRED</code>)</td></tr>
        <tr><td><code>…555</code></td><td>stays in sending for 10 s, then delivered</td></tr>
        <tr><td>anything else</td><td>delivered after a moment</td></tr>
        </tbody></table></div>
        """

    /// A first message with the official SDK, and a look at what the sandbox received with curl, for this key.
    /// `inbox`: the key may open the Sandbox inbox (a page its policy hides is not linked).
    static func firstMessage(host: String, keyId: String, inbox: Bool) -> HTML {
        let sdk = """
            pip install alibabacloud-dysmsapi20180501==1.0.10
            python3 - <<'EOF'
            from alibabacloud_dysmsapi20180501.client import Client
            from alibabacloud_dysmsapi20180501 import models
            from alibabacloud_tea_openapi.models import Config
            client = Client(Config(access_key_id="\(keyId)", access_key_secret="YOUR_SECRET", \
            endpoint="\(host)", protocol="http"))
            print(client.send_message_to_globe(models.SendMessageToGlobeRequest(\
            to="85291234567", message="Hello from Petrel")).body)
            EOF
            """
        return """
            <section class="teach" aria-labelledby="first-steps"><h2 id="first-steps">Send a first message</h2>
            <p>Nothing has been sent from this account yet. Point the official Alibaba Cloud SDK at Petrel with this \
            key (its secret was shown once when it was made):</p>
            <pre><code>\(sdk)</code></pre>
            <p>Then see what the sandbox received: \
            <code>curl -u \(keyId):YOUR_SECRET http://\(host)/sandbox/messages</code>\
            \(HTML.when(inbox, ", or open the <a href=\"/console/inbox\">Sandbox inbox</a> and send from its form")).</p>
            \(sandboxNumbers)
            \(addCarrier)</section>
            """
    }

    static let addCarrier: HTML = """
        <p>Everything goes to the sandbox until a carrier is configured: add an SMPP channel under \
        <code>channels:</code> in the configuration file (<code>id</code>, <code>host</code>, <code>port</code>, \
        <code>systemId</code>, <code>password</code>; see <code>docs/configuration.md</code>, "Channels") and a \
        route to it under <code>routes:</code>, then restart <code>petrel serve</code>.</p>
        """
}
