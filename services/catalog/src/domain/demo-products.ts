import type { NewProduct } from "./model.ts";

/** What `npm start` puts in an empty catalog so the shop has something to sell (prices in KRW). */
export const demoProducts: NewProduct[] = [
  { name: "무선 블루투스 이어폰", price: 59_000, stock: 100 },
  { name: "제주 감귤 5kg", price: 24_900, stock: 100 },
  { name: "유기농 현미 10kg", price: 38_000, stock: 100 },
  { name: "스테인리스 텀블러 500ml", price: 15_800, stock: 100 },
  { name: "한우 불고기 세트 1kg", price: 69_000, stock: 100 },
  { name: "면 100% 오버핏 반팔 티셔츠", price: 19_900, stock: 100 },
  { name: "전기 주전자 1.7L", price: 32_000, stock: 100 },
  { name: "캠핑용 접이식 의자", price: 45_000, stock: 100 },
  { name: "휴대용 보조배터리 10000mAh", price: 27_500, stock: 100 },
  { name: "수제 김치 3kg", price: 29_000, stock: 100 },
];
