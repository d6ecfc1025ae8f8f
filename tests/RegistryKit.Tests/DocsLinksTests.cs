using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace RegistryKit.Tests;

/// <summary>
/// Every relative link in README.md and docs/ leads somewhere: a Markdown file that exists and, with an anchor, a
/// heading of that file with GitHub's anchor for it; any other path exists too.
/// </summary>
public partial class DocsLinksTests
{
    /// <summary>Targets, relative to the repository root, that may not exist yet.</summary>
    private static readonly string[] s_optionalPrefixes = [];

    private static IEnumerable<string> DocumentPaths()
    {
        string root = HouseRulesTests.FindRepositoryRoot();
        yield return Path.Combine(root, "README.md");
        foreach (string path in Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            yield return path;
        }
    }

    [Test]
    public void RelativeLinks_InTheReadmeAndDocs_ResolveToAFileAndAHeading()
    {
        string root = HouseRulesTests.FindRepositoryRoot();
        List<string> broken = [];
        int checkedLinks = 0;
        foreach (string document in DocumentPaths())
        {
            foreach ((int line, string target) in Links(File.ReadAllText(document)))
            {
                checkedLinks++;
                string? problem = Check(root, document, target);
                if (problem is not null)
                {
                    broken.Add($"{Path.GetRelativePath(root, document)}:{line}: ({target}) {problem}");
                }
            }
        }

        Assert.That(checkedLinks, Is.GreaterThan(50), "the link pattern found the links");
        Assert.That(broken, Is.Empty, string.Join(Environment.NewLine, broken));
    }

    [TestCase("Sessions and recovery", "sessions-and-recovery")]
    [TestCase("In a container (`AddRegistry`)", "in-a-container-addregistry")]
    [TestCase("The in-memory registry (`RegistryKit.InMemory`, `memory://`)", "the-in-memory-registry-registrykitinmemory-memory")]
    [TestCase("UploadQueue&lt;T&gt;", "uploadqueuet")]
    [TestCase("MultiMasterRegistration (Spark's worker)", "multimasterregistration-sparks-worker")]
    [TestCase("Failback and retry", "failback-and-retry")]
    public void Anchor_FollowsGitHubsRules(string heading, string anchor) =>
        Assert.That(AnchorOf(heading), Is.EqualTo(anchor));

    [Test]
    public void Anchors_RepeatedHeadings_GetANumberedSuffix() =>
        Assert.That(Anchors("# A\n## Logs\n```\n# not a heading\n```\n## Logs\n"), Is.EquivalentTo(new[] { "a", "logs", "logs-1" }));

    /// <summary>Why a link is broken, or <see langword="null"/>.</summary>
    private static string? Check(string root, string document, string target)
    {
        int hash = target.IndexOf('#', StringComparison.Ordinal);
        string pathPart = hash >= 0 ? target[..hash] : target;
        string? anchor = hash >= 0 ? target[(hash + 1)..] : null;
        string file = pathPart.Length == 0 ? document : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, Uri.UnescapeDataString(pathPart)));
        string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
        if (relative.StartsWith("..", StringComparison.Ordinal))
        {
            return "leads out of the repository";
        }

        bool isMarkdown = file.EndsWith(".md", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(file) && !Directory.Exists(file))
        {
            bool optional = !isMarkdown && s_optionalPrefixes.Any(p => relative.StartsWith(p, StringComparison.Ordinal));
            return optional ? null : "no such file";
        }

        if (anchor is null)
        {
            return null;
        }

        if (!isMarkdown || !File.Exists(file))
        {
            return "an anchor into something that is not a Markdown file";
        }

        return Anchors(File.ReadAllText(file)).Contains(anchor) ? null : $"no heading with the anchor '{anchor}'";
    }

    /// <summary>The relative link targets of a Markdown text (outside code), with their line numbers.</summary>
    private static IEnumerable<(int Line, string Target)> Links(string markdown)
    {
        string[] lines = markdown.Split('\n');
        bool inFence = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            foreach (Match match in LinkPattern().Matches(lines[i]))
            {
                string target = match.Groups["target"].Value;
                if (!UriSchemePattern().IsMatch(target))
                {
                    yield return (i + 1, target);
                }
            }
        }
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown text, in order, numbering repeats.</summary>
    internal static List<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        List<string> anchors = [];
        bool inFence = false;
        foreach (string line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            Match heading = HeadingPattern().Match(line.TrimEnd('\r'));
            if (inFence || !heading.Success)
            {
                continue;
            }

            string anchor = AnchorOf(heading.Groups["text"].Value);
            anchors.Add(seen.TryGetValue(anchor, out int count) ? $"{anchor}-{count}" : anchor);
            seen[anchor] = count + 1;
        }

        return anchors;
    }

    /// <summary>
    /// GitHub's anchor of a heading: the rendered text in lower case, without characters other than letters, digits,
    /// spaces, '-' and '_', spaces turned into '-'.
    /// </summary>
    internal static string AnchorOf(string heading)
    {
        string text = WebUtility.HtmlDecode(MarkupPattern().Replace(heading, string.Empty)).Trim().ToLowerInvariant();
        var anchor = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                anchor.Append(c);
            }
            else if (c == ' ')
            {
                anchor.Append('-');
            }
        }

        return anchor.ToString();
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex UriSchemePattern();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*$")]
    private static partial Regex HeadingPattern();

    /// <summary>What does not show in a heading's text: backticks and HTML tags.</summary>
    [GeneratedRegex(@"`|<[^>]+>")]
    private static partial Regex MarkupPattern();
}
