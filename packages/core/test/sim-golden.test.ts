import { createHash } from "node:crypto";
import {
  extractInputs,
  getScenario,
  listScenarios,
  type ScenarioDef,
  type SessionLogV2,
  simulateScenario,
  simulateSession,
} from "@rtt/core";
import { describe, expect, it } from "vitest";

/**
 * Golden hashes: SHA-256 of JSON.stringify(log) for every built-in scenario × policy × seed (plus REPLAY, 1 ms and
 * stretched runs). Any change to the simulator must keep every log byte-identical; a deliberate change of the model
 * must re-record these hashes in the same commit and say why. Recorded from the columnar simulator (runner.ts): the
 * object-per-step simulator it replaced was never committed, so these are its first recording, not a comparison.
 */
const sha = (log: SessionLogV2) => createHash("sha256").update(JSON.stringify(log)).digest("hex");

const POLICIES = ["none", "novice", "competent", "expert"] as const;
const SEEDS = [1, 2] as const;

/** The scenario with every segment at dt = 1 ms (thousands of steps: ring buffers, long episodes, bench-like). */
const fine = (def: ScenarioDef): ScenarioDef => ({ ...def, segments: def.segments.map((s) => ({ ...s, dt: 0.001 })) });
/** The scenario stretched to one 60 s main segment at dt = 1 ms, as bench/engine does for 1 h. */
const stretched = (def: ScenarioDef): ScenarioDef => ({
  ...def,
  segments: [{ segment_id: "seg-main", label: "main", duration: 60, dt: 0.001 }],
});

function scenario(id: string): ScenarioDef {
  const def = getScenario(id);
  if (!def) throw new Error(`unknown scenario ${id}`);
  return def;
}

// GOLDEN-BEGIN
const GOLDEN: Record<string, string> = {
  "CLFC_GRID_01/none/s1": "7cd04b24d0e99e7be3ab80b43234f7fd7d9e8b91bb4d8c0c909051bc3ec7d27a",
  "CLFC_GRID_01/none/s2": "030eda7f37ad3e6b1395842c3ca51802ad326d9521f4d5580af08e1b14638c7c",
  "CLFC_GRID_01/novice/s1": "ad3387b58459deba059ae41840d0674bfc9878d88ac90156ed7350c88b5135e6",
  "CLFC_GRID_01/novice/s2": "f3b8ab5151c40efac9244751c3fe6dbed831e9f10c0ddfce1255c42f89e86070",
  "CLFC_GRID_01/competent/s1": "992a38543d28298194d8376a8a30b0d1de4fbc8c21e5fdd23d331afa0b10f188",
  "CLFC_GRID_01/competent/s2": "4b05fb89c4cf493f9dd363c35b7f46131febc4e8df6f114d6141b6861053e822",
  "CLFC_GRID_01/expert/s1": "0390bf2d03afe9cb9af95e86b620d4cbfd26ac2c6f99287a5f270c6cb0bfa138",
  "CLFC_GRID_01/expert/s2": "7710ec530d36f6922fa7b4ee74177cc026dec8e0dcbddf5402483243790797fa",
  "CLFC_MICROGRID_02/none/s1": "f0ecaea8e4f60b5a1205543c34f18a1c300e31918b4e6bcbf93c4bc7b24b5fb9",
  "CLFC_MICROGRID_02/none/s2": "e6f78933102ed12ec8c472dca59d3b0a7dcfa46a0e7ba0938aff987185b0708d",
  "CLFC_MICROGRID_02/novice/s1": "b5ef9d5b829efbab37e28576bef14dacea7b37df338ce7c04fc22cc341b023be",
  "CLFC_MICROGRID_02/novice/s2": "12db004f3ae864594b63a9db06c765f7616b2cb2443e9f1f007675c0954211b6",
  "CLFC_MICROGRID_02/competent/s1": "cb2b1ce099cf564af2458fc3609df3782b189fa496a255bfd694a9cd7212864d",
  "CLFC_MICROGRID_02/competent/s2": "12424ae1df538d55303a55c9686bdd94d7964576706a5981999f12919fdf2127",
  "CLFC_MICROGRID_02/expert/s1": "2ba489362b2d3f1ac903f53e62025dc2962e7ffab9ff855aaec75df84e9b0a26",
  "CLFC_MICROGRID_02/expert/s2": "64bf39c60909dfa7e1668e4756ff079f57a2215a86e34c67caaa9a953687178b",
  "COMT_DRIFT_02/none/s1": "0545d1ef8d87c613e3bbbe15e5abcab10364ec6e562a7b8e1c40aeae9c6ed77a",
  "COMT_DRIFT_02/none/s2": "c3206af75a4ba900721227d654fb4cb27eabb07e6fe0b80094c752558ee1ace1",
  "COMT_DRIFT_02/novice/s1": "45a4f87c7e5a1561a54f2a511186109b9dfd7828f315d16ac8c6a7b57da098e0",
  "COMT_DRIFT_02/novice/s2": "912ca031d870cfe6c716223d2f3749d75e91a07811bd5472d6b1d97ae4bf11e0",
  "COMT_DRIFT_02/competent/s1": "7aea7f12bafcf2f763bb7b1514560872135ad3b013fed4e2d565c39c03ba876d",
  "COMT_DRIFT_02/competent/s2": "2116011c1132089eb526ac7fe7e59cc36180cbc2e7f674ad3711cc8dded7a8bd",
  "COMT_DRIFT_02/expert/s1": "9847e8051113122238b1d74ac3442b48cc5a1c1d1d4cd633ad1a37b2e3d4f0e8",
  "COMT_DRIFT_02/expert/s2": "ba80f6b32c845acf9f0b50d45ec3ae6061ef1ef97d76352b1b82e279e795a2f7",
  "COMT_LOCK_01/none/s1": "65944d9bd5a62327f04a1041dfbe6869631c1652a1cd14f90e0c7ceda4437090",
  "COMT_LOCK_01/none/s2": "5ae673e28c5509970eeb1845c7df5ebf4a6fc510f8717362360ff38b8741584b",
  "COMT_LOCK_01/novice/s1": "6744700efc3799feaea35fd41b40b8360dce5785f7d38ffeab8848307f05271d",
  "COMT_LOCK_01/novice/s2": "5f0dbed0344cce77fe463458348fe79ea9d6b1b2fee8d7d94842c56e12e70b42",
  "COMT_LOCK_01/competent/s1": "d95ecf2ea67777618b042084a757d29253b8e1d3f7987cc7111755d52645803e",
  "COMT_LOCK_01/competent/s2": "4f29c030ce4bc48d315cdda15b2fb7bff429ed99a4ddb669d9bdbfcc4e44c4b1",
  "COMT_LOCK_01/expert/s1": "460e539962ef42330bec4f2dd18309467ec5deb937b30d7c284c1bcd20ad3717",
  "COMT_LOCK_01/expert/s2": "c0a32267ce7b7ccfa132bfaacbf8e1389bed34feb33590b223e5a5d702d2a962",
  "COMT_STEP_03/none/s1": "54c8f3e5e6f54467bcd19ca85ba330a177cbfd9ea5ce875297102433a9732b12",
  "COMT_STEP_03/none/s2": "7bcba2b6a86eaf553f2b499678331b1daafd46a36e69a99418392ba6405ee2cd",
  "COMT_STEP_03/novice/s1": "f1be80569ba91b357fd543f67c0719526d1275ac079afe756ddb29ffd03c08d1",
  "COMT_STEP_03/novice/s2": "a4144a59f5f5243839b30e2fe7d1e67dae8a3c4bbabdfca67e84792dc42caad9",
  "COMT_STEP_03/competent/s1": "355f67334026ba892bebdd53f6397b4e6d497200edc9ab9d409ff93b8a17b99b",
  "COMT_STEP_03/competent/s2": "361584bc18ad2153419499bdced2901313cfbeab75ec6a22f9ce84a57d82df27",
  "COMT_STEP_03/expert/s1": "a527837cae67895fc828e0e6f3cfbe3c1909569575682be98460c8cc2181146a",
  "COMT_STEP_03/expert/s2": "d2e001db09b68ce193dc029884abe28d788d1f353b0c48b41dd2c267f465aba0",
  "CTE_HANDOFF_02/none/s1": "e6da157c7649aabf436f75cd68f42334ff87743c0ac9f31f5cebf0d5e11c1aab",
  "CTE_HANDOFF_02/none/s2": "f8b245473cd66b66cadf57cc29cb3f8e36365904ff831d42a4a962582b11ce34",
  "CTE_HANDOFF_02/novice/s1": "6d91b3a63386269bf0ed19f5ea28baa5c7eded58a925741051c6ed784cc1e9b5",
  "CTE_HANDOFF_02/novice/s2": "e3c497f8d8e376fa05430783f8279197730e4c8a869c3698d74b46eec4607368",
  "CTE_HANDOFF_02/competent/s1": "c376288945dfa2db89c84bacc7b3e62ce35726fb7ccafcfaa8904d2c91946749",
  "CTE_HANDOFF_02/competent/s2": "dcebaf651cb36ab5b679cfc7c2054d29e66c2ba60a8658d611f3859593323d7f",
  "CTE_HANDOFF_02/expert/s1": "39502953fb4d0c8105a3aeb9f6e4f26e50533deba6c89a530b406ac86a03cf6d",
  "CTE_HANDOFF_02/expert/s2": "5534ae39953894444cd2d8d1883516207f21ff00b0ae9ffca302ae91b49dd7e2",
  "CTE_SENSOR_01/none/s1": "71e0f2afc43888c401e08d49c437a3ad9635bca061e664dbaaaab7a7ebfebf32",
  "CTE_SENSOR_01/none/s2": "d3675f3a4c9ae67042c00c019936f50d453f1297bebc3c33895d274a317e7fa8",
  "CTE_SENSOR_01/novice/s1": "88725edcb6d26f51b0f93489c9223d5fa71517b16783287427ec4d7ba987b21f",
  "CTE_SENSOR_01/novice/s2": "efaf16ca40c5e999e3c8149dde9f3466130848abde5e2fac6b8336126847758e",
  "CTE_SENSOR_01/competent/s1": "d258922a066e03e8fb9cfb1501f0e714d9baf1fd7077a5c64e8148c2a423228c",
  "CTE_SENSOR_01/competent/s2": "608523d42c01a50b454a20aa446c782b6314d6378a8e4fabe1a1d7fe38b5b382",
  "CTE_SENSOR_01/expert/s1": "f44151ff5c87746b358ebcaeddabd6424a6f68698617650f8af876248da1f24b",
  "CTE_SENSOR_01/expert/s2": "667bc49144d69a7b376776db9c092d54094465708a26167be90fe887b48812de",
  "PR_DIMCORE_01/none/s1": "2659d202e7ca6b77c4b807c718a587b09df987a524663030b8707418c6c5cc07",
  "PR_DIMCORE_01/none/s2": "283cda6aa20947ed01cccdc8aefc6bf364d1cec81e01b8627799d67182124205",
  "PR_DIMCORE_01/novice/s1": "b490872726a9baa205914b35524bb34b5fd3a0b9c6f9763bdaafb622d253ed79",
  "PR_DIMCORE_01/novice/s2": "57ea7ff87106e8008cdd8298b8419cecfbdf462d5618724369fa8b59ae3aa9c0",
  "PR_DIMCORE_01/competent/s1": "09c03a4c8622bb6ce4562bbc8be26e915ea2bc67e45a3c06e39103d53e52c8b9",
  "PR_DIMCORE_01/competent/s2": "e0955c0fdbf4839f2f8729f29686886edb3dc83c4029dfdf8ecdace7e5c18679",
  "PR_DIMCORE_01/expert/s1": "795d0f1975e9e372907d05d411160ad827aa22afe5a33f9d2f8f5edcc1425fd6",
  "PR_DIMCORE_01/expert/s2": "9ebc64e838317298636e040bdd4b7af8e659fda3541b2d749f3f87f5b092ec7c",
  "PR_RECOVERY_02/none/s1": "ec03cd9dfcc789d1ca32d159b3b354a8da92f13b6d2841341cfacd3e8f8d30be",
  "PR_RECOVERY_02/none/s2": "73f0ae0f6e675cacef7b2dc3f0bd578a47e25e1b24da8e74858f5f3a51c8600b",
  "PR_RECOVERY_02/novice/s1": "cde1b415f7ecb90978c954e2005de4df270f5ced7793a929deb3fda7a64cd27c",
  "PR_RECOVERY_02/novice/s2": "600b26abe2dc27ae5357b75c337f80faeef4a1754c7d41f16dc17ff23a688a79",
  "PR_RECOVERY_02/competent/s1": "45bf32e233eedcd212b8af881afd6704404e50e902b4e18b9560c671b97e389f",
  "PR_RECOVERY_02/competent/s2": "74a943976451cfdb71278ef85d6a510d8e55fc86f1b4d8ed8a5061a8ad78b610",
  "PR_RECOVERY_02/expert/s1": "f99a118837a42334cdba5912fbf6f8e8c5bbe61a3843b0ec3d66f7fa233f042f",
  "PR_RECOVERY_02/expert/s2": "c1436c85cff8651b69132bcf0827e6740fd2ad53586531d06e93da7aaf688568",
  "CLFC_GRID_01/replay/s3": "c904823d0e28bb2da7024af6c5b870204a9471b4dd819ea4e1a307b5536d1515",
  "CLFC_MICROGRID_02/replay/s3": "ad1cb0b5971fb1c08f7b3b76adb95cdd6d4b52a4cf3b097813ea466027c92ef0",
  "COMT_DRIFT_02/replay/s3": "4510b713a0f04ae5f59974d1e5c1265be8d75798585f2b173ed8336e7fe8772d",
  "COMT_LOCK_01/replay/s3": "670b458852dd07c05b259d2d00ac582ffa22e7fe7a9a177f8c51693b7bc5e30d",
  "COMT_STEP_03/replay/s3": "08ba4c2a1be67dde8ce8ef5f873e7d6352016ddda6b1c2b4ea790c1103e20dbd",
  "CTE_HANDOFF_02/replay/s3": "2bf1ddd45b4a7ca0e631865b30c1a93ac03ee541815ceaa2848e227cd4803f8d",
  "CTE_SENSOR_01/replay/s3": "34fbb82f5c69d512ae66bc40ef8f5e10579b62bf01f9a40d54efa604241d2572",
  "PR_DIMCORE_01/replay/s3": "3dde812baf509f42003e0b7522ee881f22c470ae91db55fcfec0f3691348cf0a",
  "PR_RECOVERY_02/replay/s3": "a42729ed152d7ac0e06b651ee88f04d2eb0c8f89b6af7970699ee17560110a38",
  "CLFC_GRID_01/fine-1ms/novice/s1": "1d90882f4c9f28d6d8571502c16569aa782923b9e628988e17af3697d258f763",
  "CLFC_GRID_01/fine-1ms/expert/s1": "0241b1c11ee92750621cb02f1f78aa9ac1ce0177a7353e3e8911c0251e114235",
  "CLFC_MICROGRID_02/fine-1ms/novice/s1": "10574db7e6f0c3d4fa94e92b108e98a54933e29e71f498345ceafde62e0df28b",
  "CLFC_MICROGRID_02/fine-1ms/expert/s1": "cf18dfa1dd002ca82e85f3a794edabf660eeef5bce241fd37ede93744c613e60",
  "COMT_DRIFT_02/fine-1ms/novice/s1": "5291e91903e9761b6dc0b3dfac831e703b082ada5b7d5e9a97bcb0f102efcb3b",
  "COMT_DRIFT_02/fine-1ms/expert/s1": "49dfc4aa67c75e9d61edbdff5edcb6afc3419bd310e7723b966ac764f7e93cf6",
  "COMT_LOCK_01/fine-1ms/novice/s1": "224f8c0dc91da32a0bb4e144c22ed9ab0edac8b1f47ecefc3c95d24b391ebb50",
  "COMT_LOCK_01/fine-1ms/expert/s1": "db6c0755d88933c5e69b44501588250ac1f9821f84cd72643fd9cc32d3ace381",
  "COMT_STEP_03/fine-1ms/novice/s1": "acf03dd8d4f159712df11ac29239277486afc7ca23c9fb6353b330323a88dd41",
  "COMT_STEP_03/fine-1ms/expert/s1": "a67711abfc4c95770670522c5c64a49c6bd8085a47c09413883a68873228971f",
  "CTE_HANDOFF_02/fine-1ms/novice/s1": "ba1c66d33e20f0ab293dccea58395844d810ce28368b0ed80aa77751dc126874",
  "CTE_HANDOFF_02/fine-1ms/expert/s1": "ccbb13186b9c085e7272dc6cd60ba58fdc2aa3bcadecccc4a9b122b9d955487a",
  "CTE_SENSOR_01/fine-1ms/novice/s1": "926b0f32c7d84f6be5a79347008f67a482d9703e4f90252c5e779131c141b2aa",
  "CTE_SENSOR_01/fine-1ms/expert/s1": "0319db9cfcb16d7c94d1ed4c1b88598f2b572c11940389090823a58c0017f09e",
  "PR_DIMCORE_01/fine-1ms/novice/s1": "c2ac048b72775baa015f85ea00ec59266d4dab576451ea3aa91070476d5ecc26",
  "PR_DIMCORE_01/fine-1ms/expert/s1": "a1835b6c5865bdd9a2e5593535e3dcb3a24a4caf25bcd8439930eacec3b7edfd",
  "PR_RECOVERY_02/fine-1ms/novice/s1": "3d119fa360e4f83c98b09a1a33ec9aa01b0e5f13c6278feacc0c522e8623c891",
  "PR_RECOVERY_02/fine-1ms/expert/s1": "fe2bb3ada4ed2ea1643d8945ec218ca17addba121677d5b34a594a5c29237ce0",
  "CLFC_MICROGRID_02/stretched-60s/expert/s1": "e03bf2be551316d68e34331210d8dcb691b4199333602062763f7b0026b7dad5",
  "COMT_DRIFT_02/stretched-60s/expert/s1": "355ef72f04d96629fb115375c99fb2fd284fa8969e4dc9baa2d2e367f7d061a4",
  "CTE_SENSOR_01/stretched-60s/expert/s1": "bf15f5fd834ca481a51e892e6c3b8130df0cd6b6fbe67300e39012c668af4eae",
  "PR_DIMCORE_01/stretched-60s/expert/s1": "2a00b8c699b9029d34f59124241a76cdeb1177ef6ca88ae2f690080959fa4e1c",
};
// GOLDEN-END

function computeGolden(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of listScenarios())
    for (const policy of POLICIES)
      for (const seed of SEEDS)
        out[`${s.id}/${policy}/s${seed}`] = sha(simulateSession({ scenario: s.id, policy, seed }));
  for (const s of listScenarios()) {
    const inputs = extractInputs(simulateSession({ scenario: s.id, policy: "novice", seed: 3 }));
    out[`${s.id}/replay/s3`] = sha(simulateSession({ scenario: s.id, mode: "REPLAY", inputs, seed: 3 }));
  }
  for (const s of listScenarios())
    for (const policy of ["novice", "expert"])
      out[`${s.id}/fine-1ms/${policy}/s1`] = sha(simulateScenario(fine(s), { policy, seed: 1 }));
  for (const id of ["CLFC_MICROGRID_02", "COMT_DRIFT_02", "CTE_SENSOR_01", "PR_DIMCORE_01"])
    out[`${id}/stretched-60s/expert/s1`] = sha(
      simulateScenario(stretched(scenario(id)), { policy: "expert", seed: 1 }),
    );
  return out;
}

describe("simulator golden logs (byte-identical across performance work)", () => {
  it("every scenario × policy × seed (plus REPLAY, 1 ms and stretched runs) hashes as recorded", () => {
    const got = computeGolden();
    if (process.env.RTT_GOLDEN_PRINT) console.log(JSON.stringify(got, null, 2));
    expect(Object.keys(got).length).toBe(listScenarios().length * (POLICIES.length * SEEDS.length + 1 + 2) + 4);
    expect(got).toEqual(GOLDEN);
  }, 120_000);
});
