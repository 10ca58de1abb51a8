// Lucene side of bench/lucene.ts: indexes a corpus with Lucene's BM25 and the English
// analyzer (Anserini's default), times indexing and searching, and writes each query's top 10.
//
//   java -cp <lucene jars>:<dir> LuceneBench <docs.tsv> <queries.tsv> <index dir> <top10 out> <top k> <rounds> [<more k>]
//
// <more k>: comma-separated k values also timed on one and two threads (qps_1_thread_k<K>,
// qps_2_threads_k<K>), on the same index.
// docs.tsv: "id<TAB>contents" per line; queries.tsv: "qid<TAB>text". The last stdout line is JSON.
// rounds 0: index and write the top 10 only, no timing.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

public final class LuceneBench {
  private static final String FIELD = "contents";

  public static void main(String[] args) throws Exception {
    Path docsPath = Paths.get(args[0]);
    Path queriesPath = Paths.get(args[1]);
    Path indexPath = Paths.get(args[2]);
    Path top10Path = Paths.get(args[3]);
    int topK = Integer.parseInt(args[4]);
    int rounds = Integer.parseInt(args[5]);
    int[] moreK = args.length > 6 && !args[6].isEmpty() ? Arrays.stream(args[6].split(",")).mapToInt(Integer::parseInt).toArray() : new int[0];

    List<String[]> queries = readTsv(queriesPath);
    // EnglishAnalyzer: StandardTokenizer, possessive removal, lower case, English stop words,
    // Porter stemming; Anserini's DefaultEnglishAnalyzer is the same chain.
    Analyzer analyzer = new EnglishAnalyzer();
    BM25Similarity similarity = new BM25Similarity(0.9f, 0.4f);

    // Frequencies and norms only, as genir's index holds (no positions, no stored text).
    FieldType contentsType = new FieldType();
    contentsType.setIndexOptions(IndexOptions.DOCS_AND_FREQS);
    contentsType.setTokenized(true);
    contentsType.setStored(false);
    contentsType.freeze();

    long indexStart = System.nanoTime();
    int docCount = 0;
    try (FSDirectory directory = FSDirectory.open(indexPath)) {
      IndexWriterConfig config = new IndexWriterConfig(analyzer);
      config.setSimilarity(similarity);
      config.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
      config.setRAMBufferSizeMB(256);
      // Documents are read as they are indexed (a million of them need not fit in the heap).
      try (IndexWriter writer = new IndexWriter(directory, config);
          BufferedReader reader = Files.newBufferedReader(docsPath, StandardCharsets.UTF_8)) {
        String line;
        while ((line = reader.readLine()) != null) {
          int tab = line.indexOf('\t');
          Document document = new Document();
          document.add(new StringField("id", line.substring(0, tab), Field.Store.YES));
          document.add(new Field(FIELD, line.substring(tab + 1), contentsType));
          writer.addDocument(document);
          docCount++;
        }
        writer.commit();
      }
    }
    double indexSeconds = (System.nanoTime() - indexStart) / 1e9;
    long indexBytes = directorySize(indexPath);

    try (FSDirectory directory = FSDirectory.open(indexPath); DirectoryReader reader = DirectoryReader.open(directory)) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(similarity);
      // External ids by Lucene doc number, held in memory as genir holds its docIds.
      String[] ids = new String[reader.maxDoc()];
      for (LeafReaderContext leaf : reader.leaves()) {
        for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) ids[leaf.docBase + doc] = leaf.reader().document(doc).get("id");
      }
      Query[] parsed = new Query[queries.size()];
      for (int i = 0; i < parsed.length; i++) parsed[i] = bagOfWords(analyzer, queries.get(i)[1]);

      // Warm-up (JIT) and the top 10 of each query.
      try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(top10Path, StandardCharsets.UTF_8))) {
        for (int i = 0; i < parsed.length; i++) {
          TopDocs top = searcher.search(parsed[i], topK);
          for (int r = 0; r < Math.min(10, top.scoreDocs.length); r++) {
            ScoreDoc hit = top.scoreDocs[r];
            out.println(queries.get(i)[0] + "\t" + (r + 1) + "\t" + ids[hit.doc] + "\t" + hit.score);
          }
        }
      }
      if (rounds == 0) {
        // Rankings only (bench:lucene's check on emoji-free text).
        System.out.println("{\"docs\":" + docCount + "}");
        return;
      }
      for (int round = 0; round < 2; round++) runAll(searcher, parsed, ids, topK, 0, parsed.length);

      // One thread: per-query latency; the run entries (id, score) are materialised as genir's are.
      double[] latencies = new double[parsed.length * rounds];
      long oneStart = System.nanoTime();
      int n = 0;
      for (int round = 0; round < rounds; round++) {
        for (Query query : parsed) {
          long t0 = System.nanoTime();
          materialise(searcher.search(query, topK), ids);
          latencies[n++] = (System.nanoTime() - t0) / 1e6;
        }
      }
      double oneSeconds = (System.nanoTime() - oneStart) / 1e9;
      Arrays.sort(latencies);

      // Two threads: the queries split in halves over one shared IndexSearcher.
      long twoStart = System.nanoTime();
      for (int round = 0; round < rounds; round++) {
        int half = parsed.length / 2;
        Thread other = new Thread(() -> runAll(searcher, parsed, ids, topK, half, parsed.length));
        other.start();
        runAll(searcher, parsed, ids, topK, 0, half);
        other.join();
      }
      double twoSeconds = (System.nanoTime() - twoStart) / 1e9;

      Map<String, Object> perK = new LinkedHashMap<>();
      for (int k : moreK) {
        for (int round = 0; round < 2; round++) runAll(searcher, parsed, ids, k, 0, parsed.length);
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) runAll(searcher, parsed, ids, k, 0, parsed.length);
        perK.put("qps_1_thread_k" + k, (double) parsed.length * rounds / ((System.nanoTime() - start) / 1e9));
        start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
          int half = parsed.length / 2;
          Thread other = new Thread(() -> runAll(searcher, parsed, ids, k, half, parsed.length));
          other.start();
          runAll(searcher, parsed, ids, k, 0, half);
          other.join();
        }
        perK.put("qps_2_threads_k" + k, (double) parsed.length * rounds / ((System.nanoTime() - start) / 1e9));
      }

      System.gc();
      Runtime runtime = Runtime.getRuntime();
      long heapUsed = runtime.totalMemory() - runtime.freeMemory();

      Map<String, Object> result = new LinkedHashMap<>();
      result.put("lucene_version", org.apache.lucene.util.Version.LATEST.toString());
      result.put("docs", docCount);
      result.put("queries", queries.size());
      result.put("index_s", indexSeconds);
      result.put("index_docs_per_s", docCount / indexSeconds);
      result.put("index_bytes", indexBytes);
      result.put("segments", reader.leaves().size());
      result.put("qps_1_thread", (double) parsed.length * rounds / oneSeconds);
      result.put("qps_2_threads", (double) parsed.length * rounds / twoSeconds);
      result.put("p50_ms", quantile(latencies, 0.5));
      result.put("p99_ms", quantile(latencies, 0.99));
      result.put("heap_used_mb", heapUsed / 1048576.0);
      result.put("peak_rss_mb", peakRssMb());
      result.putAll(perK);
      System.out.println(toJson(result));
    }
  }

  /** Anserini's bag-of-words query: one SHOULD clause per distinct term, boosted by its count. */
  static Query bagOfWords(Analyzer analyzer, String text) throws IOException {
    Map<String, Integer> counts = new LinkedHashMap<>();
    try (TokenStream stream = analyzer.tokenStream(FIELD, text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      stream.reset();
      while (stream.incrementToken()) counts.merge(term.toString(), 1, Integer::sum);
      stream.end();
    }
    BooleanQuery.Builder builder = new BooleanQuery.Builder();
    for (Map.Entry<String, Integer> entry : counts.entrySet()) {
      Query clause = new TermQuery(new Term(FIELD, entry.getKey()));
      if (entry.getValue() > 1) clause = new BoostQuery(clause, entry.getValue());
      builder.add(clause, BooleanClause.Occur.SHOULD);
    }
    return builder.build();
  }

  static void runAll(IndexSearcher searcher, Query[] queries, String[] ids, int topK, int from, int to) {
    try {
      for (int i = from; i < to; i++) materialise(searcher.search(queries[i], topK), ids);
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  /** (id, score) pairs of the hits, as a run needs them. */
  static Object[] materialise(TopDocs top, String[] ids) {
    Object[] entries = new Object[top.scoreDocs.length * 2];
    for (int i = 0; i < top.scoreDocs.length; i++) {
      entries[2 * i] = ids[top.scoreDocs[i].doc];
      entries[2 * i + 1] = top.scoreDocs[i].score;
    }
    return entries;
  }

  static double quantile(double[] sorted, double q) {
    int position = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[position];
  }

  static List<String[]> readTsv(Path path) throws IOException {
    List<String[]> rows = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null) {
        int tab = line.indexOf('\t');
        rows.add(new String[] {line.substring(0, tab), line.substring(tab + 1)});
      }
    }
    return rows;
  }

  static long directorySize(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.mapToLong(file -> file.toFile().length()).sum();
    }
  }

  /** VmHWM of this JVM (Linux); -1 elsewhere. */
  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  static String toJson(Map<String, Object> map) {
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, Object> entry : map.entrySet()) {
      if (json.length() > 1) json.append(',');
      json.append('"').append(entry.getKey()).append("\":");
      Object value = entry.getValue();
      json.append(value instanceof String ? "\"" + value + "\"" : String.valueOf(value));
    }
    return json.append('}').toString();
  }
}
