import PetrelServer
import PetrelStore

/// Opens the store for one command and always closes it. Only a command told to (`creating`) makes a store or a
/// master key where there is none; the others refuse a missing one with a sentence naming the path.
func withStore<T>(
    _ data: DataDirOption,
    creating: Bool = false,
    _ body: (any MessageStore) async throws -> T
) async throws -> T {
    let store = try await DataDirectory.openStore(
        path: data.path,
        storeURL: data.storeURL,
        opening: creating ? .createIfMissing : .existingOnly
    )
    do {
        let result = try await body(store)
        try await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}

/// Refuses an account the store does not know unless told to make it. `createFlag` is the command's
/// `--create-account`, nil for a command that has none (it only reads or filters by account).
func checkAccount(_ account: String, in store: any MessageStore, createFlag: Bool?) async throws {
    if createFlag == true { return }
    let known = try await Accounts.known(in: store)
    if known.contains(account) { return }
    let list = known.sorted().prefix(20).joined(separator: ", ")
    let fix = createFlag == nil ? "check the name" : "check the name, or pass --create-account to make it"
    throw CLIError(description: "no account \(account) in this store (it has \(list)); \(fix)")
}
