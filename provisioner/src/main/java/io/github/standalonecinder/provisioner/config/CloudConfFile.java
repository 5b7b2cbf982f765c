package io.github.standalonecinder.provisioner.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A cloud.conf read the way cloud-provider-openstack reads it: with gcfg ({@code gopkg.in/gcfg.v1}), whose syntax is
 * git-config's.
 *
 * <ul>
 *   <li>Section and key names are case-insensitive; a subsection name ({@code [Global "region-one"]}) is not.
 *   <li>{@code #} and {@code ;} start a comment anywhere outside double quotes, also after a value.
 *   <li>A value runs to the end of the line or comment, with surrounding blanks removed. Double quotes may appear
 *       anywhere in it and keep blanks, {@code #} and {@code ;}; inside them {@code \"}, {@code \\}, {@code \n} and
 *       {@code \t} are the escapes. A backslash at the end of a line, outside quotes, continues the value.
 *   <li>A key repeated in a section: the last value wins (gcfg overwrites single-valued variables); an empty value
 *       ({@code key =}) sets the key to empty, which here means unset.
 *   <li>A section may appear several times; its keys merge.
 *   <li>A key outside any section, a key without {@code =}, an unterminated quote, an unknown escape or a character
 *       that starts nothing are errors, as in gcfg. A UTF-8 byte-order mark is skipped.
 * </ul>
 *
 * <p>This class only reads; which sections and keys are known is {@link CloudConfig}'s business.
 */
public final class CloudConfFile {
  /** A section: lower-case name, and the subsection ("" when there is none), kept as written. */
  public record Section(String name, String subsection) {
    private static final Map<String, String> SPELLING = Map.of("global", "Global", "blockstorage", "BlockStorage",
        "metadata", "Metadata", "loadbalancer", "LoadBalancer", "networking", "Networking", "route", "Route");

    public Section {
      name = name.toLowerCase(Locale.ROOT);
    }

    /** As cloud-provider-openstack's docs spell it: {@code [Global]}, {@code [BlockStorage "x"]}. */
    @Override
    public String toString() {
      String n = SPELLING.getOrDefault(name, name);
      return subsection.isEmpty() ? "[" + n + "]" : "[" + n + " \"" + subsection + "\"]";
    }
  }

  /** A key as written (lower-cased) with its value (null for a key without {@code =}) and line. */
  public record Entry(String key, String value, int line) {}

  private final String source;
  private final Map<Section, List<Entry>> sections;

  private CloudConfFile(String source, Map<Section, List<Entry>> sections) {
    this.source = source;
    this.sections = sections;
  }

  /** Reads and parses {@code file}; the message of the exception names the file and the line. */
  public static CloudConfFile read(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("cloud config " + file + ": cannot read it (" + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
    }
    return parse(text, file.toString());
  }

  /** Parses {@code text}; {@code source} names it in error messages. */
  public static CloudConfFile parse(String text, String source) throws ConfigException {
    return new Parser(text.startsWith("\uFEFF") ? text.substring(1) : text, source).parse();
  }

  /** Where this file came from, for messages. */
  public String source() {
    return source;
  }

  /** The sections in the order first seen. */
  public Set<Section> sections() {
    return Collections.unmodifiableSet(sections.keySet());
  }

  /** The entries of a section in file order, repeats included; empty when the section is absent. */
  public List<Entry> entries(Section section) {
    return sections.getOrDefault(section, List.of());
  }

  /** The subsection names of {@code name} ({@code "Global"} gives the named clouds), in file order. */
  public List<String> subsections(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return sections.keySet().stream().filter(s -> s.name().equals(n) && !s.subsection().isEmpty())
        .map(Section::subsection).toList();
  }

  private static final class Parser {
    private final String text;
    private final String source;
    private final Map<Section, List<Entry>> sections = new LinkedHashMap<>();
    private int pos;
    private int line = 1;

    Parser(String text, String source) {
      this.text = text;
      this.source = source;
    }

    CloudConfFile parse() throws ConfigException {
      Section current = null;
      while (true) {
        skipBlanks();
        if (eof()) {
          break;
        }
        char c = text.charAt(pos);
        if (c == '\n') {
          pos++;
          line++;
        } else if (c == '#' || c == ';') {
          skipComment();
        } else if (c == '[') {
          pos++;
          current = header();
          sections.computeIfAbsent(current, s -> new ArrayList<>());
        } else if (isNameStart(c)) {
          int keyLine = line;
          String key = name();
          if (current == null) {
            throw error(keyLine, "key " + key + " comes before any section header such as [Global]");
          }
          skipBlanks();
          String value = null;
          if (!eof() && text.charAt(pos) == '=') {
            pos++;
            skipBlanks();
            value = value();
          } else if (!atEndOfStatement()) {
            throw error(keyLine, "expected '=' after " + key);
          }
          sections.get(current).add(new Entry(key.toLowerCase(Locale.ROOT), value, keyLine));
        } else {
          throw error(line, "unexpected character '" + c + "' (expected a [section], key = value or comment)");
        }
      }
      Map<Section, List<Entry>> frozen = new LinkedHashMap<>();
      sections.forEach((s, l) -> frozen.put(s, List.copyOf(l)));
      return new CloudConfFile(source, Collections.unmodifiableMap(frozen));
    }

    private Section header() throws ConfigException {
      int headerLine = line;
      skipBlanks();
      if (eof() || !Character.isLetter(text.charAt(pos))) {
        throw error(headerLine, "expected a section name after '['");
      }
      String name = name();
      skipBlanks();
      String sub = "";
      if (!eof() && text.charAt(pos) == '"') {
        pos++;
        sub = quotedSubsection(headerLine);
        if (sub.isEmpty()) {
          throw error(headerLine, "empty subsection name: write [" + name + "] instead");
        }
        skipBlanks();
      }
      if (eof() || text.charAt(pos) != ']') {
        throw error(headerLine, "unterminated section header: expected ']'");
      }
      pos++;
      skipBlanks();
      if (!atEndOfStatement()) {
        throw error(headerLine, "unexpected text after the section header");
      }
      return new Section(name.toLowerCase(Locale.ROOT), sub);
    }

    private String quotedSubsection(int headerLine) throws ConfigException {
      StringBuilder b = new StringBuilder();
      while (true) {
        if (eof() || text.charAt(pos) == '\n') {
          throw error(headerLine, "unterminated subsection name: expected '\"'");
        }
        char c = text.charAt(pos++);
        if (c == '"') {
          return b.toString();
        }
        if (c == '\\') {
          b.append(escape(headerLine));
        } else {
          b.append(c);
        }
      }
    }

    /** The value after '=', unquoted and unescaped, outer blanks removed; stops before a newline or comment. */
    private String value() throws ConfigException {
      int valueLine = line;
      StringBuilder b = new StringBuilder();
      int keep = 0;
      boolean quoted = false;
      while (true) {
        if (eof()) {
          if (quoted) {
            throw error(valueLine, "unterminated quoted value: expected '\"'");
          }
          break;
        }
        char c = text.charAt(pos);
        if (!quoted && (c == '\n' || c == '#' || c == ';')) {
          break;
        }
        if (quoted && c == '\n') {
          throw error(valueLine, "unterminated quoted value: expected '\"' before the end of the line");
        }
        pos++;
        if (c == '\r') {
          continue;
        }
        if (c == '"') {
          quoted = !quoted;
          keep = b.length();
        } else if (c == '\\' && quoted) {
          b.append(escape(valueLine));
          keep = b.length();
        } else if (c == '\\') {
          if (!eof() && text.charAt(pos) == '\r') {
            pos++;
          }
          if (eof() || text.charAt(pos) != '\n') {
            throw error(valueLine, "a backslash outside quotes must end the line (to continue the value); "
                + "quote the value to use \\\\");
          }
          pos++;
          line++;
          keep = b.length();
        } else {
          b.append(c);
          if (quoted || c != ' ' && c != '\t') {
            keep = b.length();
          }
        }
      }
      return b.substring(0, keep);
    }

    private char escape(int atLine) throws ConfigException {
      if (eof()) {
        throw error(atLine, "unterminated escape sequence");
      }
      char e = text.charAt(pos++);
      return switch (e) {
        case '\\' -> '\\';
        case '"' -> '"';
        case 'n' -> '\n';
        case 't' -> '\t';
        default -> throw error(atLine, "unknown escape sequence \\" + e + " (gcfg knows \\\", \\\\, \\n and \\t)");
      };
    }

    /**
     * A section or key name. gcfg allows letters, digits and '-'; '_' and '.' are read here too so that the
     * caller can answer {@code auth_url} with "did you mean auth-url" rather than a syntax error.
     */
    private String name() {
      int start = pos;
      while (!eof()) {
        char c = text.charAt(pos);
        if (Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.') {
          pos++;
        } else {
          break;
        }
      }
      return text.substring(start, pos);
    }

    private static boolean isNameStart(char c) {
      return Character.isLetter(c) || c == '_';
    }

    private boolean atEndOfStatement() {
      if (eof()) {
        return true;
      }
      char c = text.charAt(pos);
      return c == '\n' || c == '#' || c == ';';
    }

    private void skipBlanks() {
      while (!eof()) {
        char c = text.charAt(pos);
        if (c == ' ' || c == '\t' || c == '\r') {
          pos++;
        } else {
          break;
        }
      }
    }

    private void skipComment() {
      while (!eof() && text.charAt(pos) != '\n') {
        pos++;
      }
    }

    private boolean eof() {
      return pos >= text.length();
    }

    private ConfigException error(int atLine, String problem) {
      return new ConfigException("cloud config " + source + " line " + atLine + ": " + problem);
    }
  }

  /** Known names close to {@code unknown}: '_' for '-', or at most two edits away. */
  static List<String> near(String unknown, Set<String> known) {
    String u = unknown.toLowerCase(Locale.ROOT).replace('_', '-').replace('.', '-');
    Set<String> out = new LinkedHashSet<>();
    for (String k : known) {
      if (k.equals(u)) {
        out.add(k);
      }
    }
    for (String k : known) {
      if (distance(u, k) <= (k.length() >= 5 ? 2 : 1)) {
        out.add(k);
      }
    }
    return List.copyOf(out);
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
