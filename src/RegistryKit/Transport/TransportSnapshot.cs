namespace RegistryKit.Transport;

/// <summary>
/// Everything a registry holds under one subscription at one revision: the raw entries, as the registry stored them.
/// </summary>
/// <remarks>
/// Entries are untrusted registry data. The registry engine parses each as a <see cref="ServiceUrl"/>, skipping and
/// counting what does not parse; a transport passes them on unchanged.
/// </remarks>
/// <param name="Revision">
/// The registry's revision of this view. Within one subscription, revisions only grow: a snapshot older than one
/// already delivered is ignored.
/// </param>
/// <param name="Entries">The stored values (URLs in their full form), in no particular order.</param>
public sealed record TransportSnapshot(long Revision, IReadOnlyList<string> Entries);
