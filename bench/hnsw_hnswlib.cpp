// hnsw_hnswlib.cpp: the in-process reference: hnswlib on the same data.
// Usage: [HNSW_DIMS=d] hnsw_hnswlib TRAIN.tsv QUERIES.tsv GT.txt THREADS EF...
// Builds with M=16, ef_construction=64 on THREADS threads, then searches
// single-threaded.  Prints "build_s,X" then
// ef,recall,qps,ms_per_query,cpu_ms_per_query (process CPU time per query).
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

/* dimensions: 784 (Fashion-MNIST) unless HNSW_DIMS says otherwise */
static int D = 784;
static const int K = 10;

static void
load(const char *path, std::vector<float> &data, std::vector<int> &ids)
{
	std::ifstream in(path);
	std::string line;

	while (std::getline(in, line))
	{
		size_t b = line.find('[');
		if (b == std::string::npos)
			continue;
		ids.push_back(atoi(line.c_str()));
		const char *p = line.c_str() + b + 1;
		for (int i = 0; i < D; i++)
		{
			char *end;
			data.push_back(strtof(p, &end));
			p = end + 1;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc < 6)
	{
		fprintf(stderr, "usage: %s TRAIN QUERIES GT THREADS EF...\n", argv[0]);
		return 2;
	}
	if (getenv("HNSW_DIMS"))
		D = atoi(getenv("HNSW_DIMS"));
	std::vector<float> train, test;
	std::vector<int> tid, qid;
	load(argv[1], train, tid);
	load(argv[2], test, qid);
	size_t n = tid.size(), nq = qid.size();
	std::vector<int> gt(nq * K);
	{
		std::ifstream in(argv[3]);
		for (size_t i = 0; i < nq * K; i++)
			in >> gt[i];
	}
	int threads = atoi(argv[4]);

	hnswlib::L2Space space(D);
	hnswlib::HierarchicalNSW<float> index(&space, n, 16, 64, 100);
	auto t0 = std::chrono::steady_clock::now();
	index.addPoint(&train[0], tid[0]);
	std::vector<std::thread> pool;
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&, t]() {
			for (size_t i = 1 + t; i < n; i += threads)
				index.addPoint(&train[i * D], tid[i]);
		});
	for (auto &th : pool)
		th.join();
	double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	printf("build_s,%.2f\n", build);
	printf("ef,recall,qps,ms_per_query,cpu_ms_per_query\n");
	for (int a = 5; a < argc; a++)
	{
		int ef = atoi(argv[a]);
		index.setEf(ef);
		long hits = 0;
		auto s0 = std::chrono::steady_clock::now();
		std::clock_t c0 = std::clock();
		for (size_t q = 0; q < nq; q++)
		{
			auto r = index.searchKnn(&test[q * D], K);
			while (!r.empty())
			{
				int id = (int) r.top().second;
				r.pop();
				for (int j = 0; j < K; j++)
					if (gt[q * K + j] == id)
					{
						hits++;
						break;
					}
			}
		}
		double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
		double c = (double) (std::clock() - c0) / CLOCKS_PER_SEC;
		printf("%d,%.4f,%.1f,%.3f,%.3f\n", ef, (double) hits / (nq * K), nq / s, 1000.0 * s / nq,
			   1000.0 * c / nq);
		fflush(stdout);
	}
	return 0;
}
