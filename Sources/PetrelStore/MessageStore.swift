/// Petrel's durable state, by role. SQLite (embedded default) and PostgreSQL conform to every role and pass one
/// conformance suite; each consumer takes only the roles it uses (the dispatcher a `SendQueue`, the receipt pusher a
/// `ReceiptOutbox`, …), and only the composition root (`petrel serve`, the CLI) holds the whole store.
public protocol MessageStore:
    AcceptLog, MessageLookup, MessageHistory, ConsoleQueries, KeyStore, TemplateStore, SendQueue, ReceiptLedger,
    ReceiptOutbox, OutboxOperations, CampaignStore, SandboxInbox, NodeRegistry, Retention, SendLimitLog,
    PumpingGuardLog,
    ClassicQueries,
    InboundLog, SuppressionList,
    SignStore, SMPPUserStore, SMPPReceiptOutbox, SMPPMOOutbox, StatisticsStore, PushLogStore
{
    /// Closes connections; the store is unusable afterwards.
    func close() async throws
}
